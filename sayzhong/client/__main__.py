"""`sayzhong-client`: the terminal learner client.

    sayzhong-client [--server URL] login | logout | lessons | practice UNIT | review | devices | sync | status

Exit codes: 0 done (also when a take was scored offline and queued), 1 failed, 2 bad usage,
3 the access token is missing, expired or revoked (run `login`).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from sayzhong.client import audio as audio_mod
from sayzhong.client import offline, render
from sayzhong.client.api import (
    MAX_UPLOAD_BYTES,
    ApiClient,
    ApiRequestError,
    AuthProblemError,
    ClientError,
    FileTooLargeError,
    ServerUnreachableError,
)
from sayzhong.client.config import ClientConfig, config_dir, delete_token, read_token, save_token
from sayzhong.client.queue import OfflineQueue, new_idempotency_key

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH = 0, 1, 2, 3
# Refusals that re-sending the same take can never fix: the take leaves the queue (kept in rejected/).
PERMANENT_STATUSES = frozenset({400, 404, 413, 415, 422})


class Context:
    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.style = render.Style.for_stream(out)
        self.err_style = render.Style.for_stream(err)
        self.config = ClientConfig.load()
        self.server = args.server or os.environ.get("SAYZHONG_SERVER") or self.config.server
        self.json = bool(getattr(args, "json", False))

    def client(self, token: str | None = None) -> ApiClient:
        return ApiClient(self.server, token if token is not None else read_token())

    def say(self, text: str = "") -> None:
        if not self.json:
            self.out.write(text + "\n")
            self.out.flush()

    def note(self, text: str) -> None:
        self.err.write(text + "\n")
        self.err.flush()

    def emit_json(self, data: Any) -> None:
        self.out.write(json.dumps(data, ensure_ascii=False) + "\n")
        self.out.flush()

    def fail(self, exc: ClientError) -> int:
        if self.json:
            self.emit_json({"error": {"code": exc.code, "message": exc.message}})
        else:
            self.note(self.err_style.red("Error: ") + exc.message)
        return EXIT_AUTH if isinstance(exc, AuthProblemError) else EXIT_FAILED


# --- commands ------------------------------------------------------------------------------------------


def cmd_login(ctx: Context) -> int:
    token = ctx.args.token
    if not token:
        if sys.stdin.isatty():
            token = getpass.getpass("Paste your access token (from your account page): ")
        else:
            token = sys.stdin.readline()
    token = (token or "").strip()
    if not token:
        raise ClientError("No token given. Create one on your account page and paste it here.")
    me = ctx.client(token).me()
    path = save_token(token)
    if ctx.args.server:
        ctx.config.server = ctx.server
        ctx.config.save()
    if ctx.json:
        ctx.emit_json({"user": me, "token_file": str(path)})
    else:
        info = me.get("token", {})
        ctx.say(
            f"Logged in to {ctx.server} as {me.get('display_name')} ({me.get('email')}). "
            f"Token {info.get('prefix', '')}… expires {str(info.get('expires_at', ''))[:10]}."
        )
        ctx.say(ctx.style.dim(f"Token saved to {path} (readable only by you)."))
    return EXIT_OK


def cmd_logout(ctx: Context) -> int:
    removed = delete_token()
    if ctx.json:
        ctx.emit_json({"logged_out": removed})
    else:
        ctx.say(
            "Logged out: the token was removed from this computer." if removed else "You were not logged in."
        )
        if removed:
            ctx.say(ctx.style.dim("To end it everywhere, revoke the token on your account page."))
    return EXIT_OK


def cmd_lessons(ctx: Context) -> int:
    try:
        units, is_offline = ctx.client().units(), False
    except ServerUnreachableError as exc:
        units, is_offline = offline.local_units(), True
        ctx.note(ctx.err_style.yellow(f"{exc.message} Showing the lessons built into this client."))
    if ctx.json:
        ctx.emit_json({"units": units, "offline": is_offline})
    else:
        ctx.say(render.render_units(units, style=ctx.style, offline=is_offline))
    return EXIT_OK


def _load_unit(ctx: Context, unit_id: str) -> tuple[dict[str, Any], bool]:
    from sayzhong.errors import NotFoundError

    try:
        return ctx.client().unit(unit_id), False
    except ServerUnreachableError as exc:
        ctx.note(ctx.err_style.yellow(f"{exc.message} Working offline."))
    except ApiRequestError as exc:
        if exc.status == 404:
            raise ClientError(f"There is no lesson {unit_id!r}. See `sayzhong-client lessons`.") from None
        raise
    try:
        return offline.local_unit(unit_id), True
    except NotFoundError:
        raise ClientError(f"There is no lesson {unit_id!r}. See `sayzhong-client lessons`.") from None


def _select_phrases(unit: dict[str, Any], choice: str | None) -> list[dict[str, Any]]:
    phrases: list[dict[str, Any]] = list(unit.get("phrases") or [])
    if not phrases:
        raise ClientError("This lesson has no phrases.")
    if choice is None:
        return phrases
    if choice.isdigit():
        index = int(choice)
        if not 1 <= index <= len(phrases):
            raise ClientError(f"Choose a phrase number from 1 to {len(phrases)}.")
        return phrases[index - 1 :]
    for i, phrase in enumerate(phrases):
        if phrase.get("id") == choice:
            return phrases[i:]
    raise ClientError(f"Lesson {unit.get('id')!r} has no phrase {choice!r}.")


def sniff_content_type(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:4] == b"fLaC":
        return "audio/flac"
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "audio/webm"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return "application/octet-stream"


def read_wav_file(path: Path) -> tuple[bytes, str]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ClientError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    if size > MAX_UPLOAD_BYTES:
        raise FileTooLargeError(size)
    data = path.read_bytes()
    if not data:
        raise ClientError(f"{path} is empty.", code="audio_empty")
    return data, sniff_content_type(data)


def _play_reference(ctx: Context, phrase: dict[str, Any], is_offline: bool) -> None:
    data: bytes | None = None
    if not is_offline:
        try:
            data = ctx.client().reference_audio(str(phrase["id"]))
        except ClientError:
            data = None
    if data is None:
        data = offline.local_reference_audio(str(phrase.get("hanzi", "")))
    if data is None:
        ctx.note(ctx.err_style.dim("(The example recording is not available.)"))
        return
    try:
        played = audio_mod.play_wav(data, device=ctx.args.output_device)
    except (ValueError, EOFError, audio_mod.AudioDeviceError):
        played = False
    if played:
        ctx.note(ctx.err_style.dim("(Played the example. Now it's your turn.)"))
    else:
        ctx.note(ctx.err_style.dim("(No speaker found: skipping the example.)"))


def _record(ctx: Context) -> bytes:
    live = ctx.err.isatty()
    last = [""]

    def on_level(level: float, elapsed: float, heard: bool) -> None:
        if live:
            line = render.level_meter(level, elapsed, heard, style=ctx.err_style)
            ctx.err.write("\r" + line)
            ctx.err.flush()
            last[0] = line

    ctx.note(ctx.err_style.bold("Recording… speak the phrase; it stops when you pause."))
    try:
        take = audio_mod.record(
            device=ctx.args.device,
            max_seconds=ctx.args.max_seconds,
            silence_s=ctx.args.silence,
            on_level=on_level,
        )
    finally:
        if live and last[0]:
            ctx.err.write("\n")
    ended = "after you stopped speaking" if take.stopped_by == "silence" else "at the time limit"
    ctx.note(
        ctx.err_style.dim(
            f"Recorded {take.duration_s:.1f} s from {take.device} "
            f"(loudest {take.peak_dbfs:.0f} dBFS), {ended}."
        )
    )
    if not take.speech_detected:
        raise audio_mod.NoSpeechError(take.peak_dbfs)
    return take.wav_bytes()


def _submit_or_queue(
    ctx: Context, *, phrase: dict[str, Any], audio: bytes, content_type: str, is_offline: bool
) -> tuple[dict[str, Any], bool, bool, ClientError | None]:
    """(attempt, scored offline, queued, auth problem to report)."""
    key = new_idempotency_key()
    item_id, text = str(phrase["id"]), str(phrase.get("hanzi", ""))
    problem: ClientError | None = None
    if not is_offline:
        try:
            result = ctx.client().submit_attempt(
                item_id=item_id, audio=audio, content_type=content_type, idempotency_key=key
            )
            return result.attempt, False, False, None
        except ServerUnreachableError as exc:
            ctx.note(ctx.err_style.yellow(f"{exc.message} Scoring on this computer instead."))
        except AuthProblemError as exc:
            problem = exc
            ctx.note(ctx.err_style.yellow(f"{exc.message} Scoring on this computer; the take is kept."))
        except ApiRequestError as exc:
            if exc.status != 429:
                raise
            ctx.note(ctx.err_style.yellow(f"{exc.message} Scoring on this computer; the take is kept."))
    from sayzhong.errors import SayZhongError

    try:
        attempt: dict[str, Any] | None = offline.score_offline(audio=audio, text=text, item_id=item_id)
    except SayZhongError as exc:
        # The engine cannot use this audio (silent, clipped, unreadable): the server would refuse it
        # too, so it is not queued; the learner records again.
        raise ClientError(exc.user_message, code=exc.code) from None
    except Exception as exc:  # the take matters more than the local score: keep it either way
        ctx.note(ctx.err_style.yellow(f"Could not score on this computer ({type(exc).__name__}: {exc})."))
        attempt = None
    summary = {k: attempt.get(k) for k in ("pron", "tone", "accuracy", "engine")} if attempt else {}
    OfflineQueue().add(
        item_id=item_id,
        audio=audio,
        content_type=content_type,
        idempotency_key=key,
        text=text,
        offline_summary=summary,
    )
    if attempt is None:
        attempt = {"id": None, "item_id": item_id, "text": text, "syllables": [], "offline": True}
    return attempt, True, True, problem


def cmd_practice(ctx: Context) -> int:
    args = ctx.args
    unit, is_offline = _load_unit(ctx, args.unit)
    phrases = _select_phrases(unit, args.phrase)
    interactive = sys.stdin.isatty() and not args.wav and not ctx.json
    if not interactive:
        phrases = phrases[:1]
    total = len(unit.get("phrases") or [])
    exit_code = EXIT_OK
    for phrase in phrases:
        position = f"[{(unit.get('phrases') or []).index(phrase) + 1}/{total}]"
        ctx.say(render.render_phrase(phrase, style=ctx.style, position=position))
        if interactive:
            answer = input("Enter: record   s: skip   q: quit > ").strip().lower()
            if answer == "q":
                break
            if answer == "s":
                continue
        if args.wav:
            audio, content_type = read_wav_file(Path(args.wav))
        else:
            if not args.no_play:
                _play_reference(ctx, phrase, is_offline)
            audio, content_type = _record(ctx), "audio/wav"
        attempt, scored_offline, queued, problem = _submit_or_queue(
            ctx, phrase=phrase, audio=audio, content_type=content_type, is_offline=is_offline
        )
        if ctx.json:
            ctx.emit_json({"attempt": attempt, "offline": scored_offline, "queued": queued})
        else:
            ctx.say(render.render_attempt(attempt, style=ctx.style, offline=scored_offline, queued=queued))
            if queued:
                ctx.say(ctx.style.dim("Run `sayzhong-client sync` when you are back online."))
        if problem is not None:
            exit_code = EXIT_AUTH
    return exit_code


def cmd_review(ctx: Context) -> int:
    try:
        reviews = ctx.client().reviews()
    except ServerUnreachableError as exc:
        raise ClientError(
            f"{exc.message} The review queue lives on the server; try again when online."
        ) from None
    if ctx.json:
        ctx.emit_json({"reviews": reviews})
    else:
        ctx.say(render.render_reviews(reviews, style=ctx.style))
    return EXIT_OK


def cmd_devices(ctx: Context) -> int:
    try:
        devices = audio_mod.list_devices()
    except audio_mod.AudioDeviceError:
        devices = []
    if ctx.json:
        ctx.emit_json({"devices": [asdict(d) for d in devices]})
    else:
        ctx.say(render.render_devices(devices, style=ctx.style))
        if not any(d.max_input_channels > 0 for d in devices):
            ctx.say(ctx.style.yellow("No microphone found. ") + audio_mod.NO_INPUT_HELP)
    return EXIT_OK


def cmd_sync(ctx: Context) -> int:
    queue = OfflineQueue()
    queue.cleanup_orphans()
    takes = queue.takes()
    synced: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    if not takes:
        if ctx.json:
            ctx.emit_json({"synced": [], "rejected": [], "remaining": 0})
        else:
            ctx.say("Nothing to sync.")
        return EXIT_OK
    client = ctx.client()
    failure: ClientError | None = None
    for take in takes:
        try:
            result = client.submit_attempt(
                item_id=take.item_id,
                audio=queue.audio(take),
                content_type=take.content_type,
                idempotency_key=take.idempotency_key,
            )
        except (ServerUnreachableError, AuthProblemError) as exc:
            queue.record_failure(take, exc.message)
            failure = exc
            break
        except FileTooLargeError as exc:
            queue.reject(take, exc.message)
            rejected.append({"take": take.id, "item_id": take.item_id, "error": exc.message})
            continue
        except ApiRequestError as exc:
            if exc.status not in PERMANENT_STATUSES:
                queue.record_failure(take, exc.message)
                failure = exc
                break
            queue.reject(take, exc.message)
            rejected.append({"take": take.id, "item_id": take.item_id, "error": exc.message})
            continue
        queue.remove(take)
        synced.append(
            {
                "take": take.id,
                "item_id": take.item_id,
                "attempt_id": result.attempt.get("id"),
                "replayed": result.replayed,
            }
        )
        if not ctx.json:
            again = " (the server already had it)" if result.replayed else ""
            ctx.say(f"Synced {take.text or take.item_id} → attempt #{result.attempt.get('id')}{again}")
    remaining = len(queue)
    if ctx.json:
        ctx.emit_json(
            {
                "synced": synced,
                "rejected": rejected,
                "remaining": remaining,
                **({"error": {"code": failure.code, "message": failure.message}} if failure else {}),
            }
        )
    else:
        for item in rejected:
            ctx.say(ctx.style.red(f"Not accepted: {item['item_id']}: {item['error']}"))
        if rejected:
            ctx.say(ctx.style.dim(f"Refused takes are kept in {queue.rejected_dir}."))
        if failure is not None:
            ctx.note(ctx.err_style.red("Error: ") + failure.message)
        ctx.say(f"{len(synced)} synced, {remaining} still queued.")
    if failure is not None:
        return EXIT_AUTH if isinstance(failure, AuthProblemError) else EXIT_FAILED
    return EXIT_OK


def cmd_status(ctx: Context) -> int:
    queue = OfflineQueue()
    token = read_token()
    status: dict[str, Any] = {
        "server": ctx.server,
        "logged_in": token is not None,
        "config_dir": str(config_dir()),
        "queued": len(queue),
        "rejected": len(queue.rejected()),
        "server_reachable": None,
        "user": None,
    }
    if token:
        try:
            status["user"] = ctx.client(token).me()
            status["server_reachable"] = True
        except ServerUnreachableError as exc:
            status["server_reachable"] = False
            status["server_error"] = exc.message
        except ApiRequestError as exc:
            status["server_reachable"] = True
            status["token_error"] = {"code": exc.code, "message": exc.message}
    try:
        devices = audio_mod.list_devices()
    except audio_mod.AudioDeviceError:
        devices = []
    default_in = next((d for d in devices if d.is_default_input and d.max_input_channels), None)
    status["input_device"] = f"{default_in.index}: {default_in.name}" if default_in else None
    if ctx.json:
        ctx.emit_json(status)
        return EXIT_OK
    s = ctx.style
    ctx.say(f"Server:      {ctx.server}")
    if not token:
        ctx.say("Account:     " + s.yellow("not logged in (run `sayzhong-client login`)"))
    elif status["user"]:
        user = status["user"]
        ctx.say(f"Account:     {user.get('display_name')} <{user.get('email')}>")
        ctx.say(f"Token:       {user['token']['prefix']}… expires {str(user['token']['expires_at'])[:10]}")
    elif "token_error" in status:
        ctx.say("Account:     " + s.red(status["token_error"]["message"]))
    else:
        ctx.say("Account:     " + s.yellow(f"unknown — {status.get('server_error')}"))
    ctx.say(
        f"Queued:      {status['queued']} take(s) waiting to sync"
        + (f", {status['rejected']} refused" if status["rejected"] else "")
    )
    ctx.say(f"Microphone:  {status['input_device'] or s.yellow('none found')}")
    return EXIT_OK


# --- entry point ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sayzhong-client",
        description="Practise Mandarin pronunciation from the terminal with your microphone.",
    )
    parser.add_argument(
        "--server", help="SayZhong address (default: saved, $SAYZHONG_SERVER, or http://localhost:3000)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if json_flag:
            p.add_argument("--json", action="store_true", help="print JSON for scripts")
        return p

    login = add("login", "store an access token from your account page (checked with the server)")
    login.add_argument("--token", help="the token (default: read from the terminal or stdin)")
    add("logout", "remove the stored token from this computer")
    add("lessons", "list the lessons")
    practice = add("practice", "practise a lesson's phrases with your microphone")
    practice.add_argument("unit", metavar="UNIT", help="lesson id (see `lessons`)")
    practice.add_argument("--phrase", help="start at this phrase (number from 1, or phrase id)")
    practice.add_argument("--device", help="input device number or name (see `devices`)")
    practice.add_argument("--output-device", help="output device for the example (number or name)")
    practice.add_argument("--wav", metavar="FILE", help="submit this audio file instead of recording")
    practice.add_argument("--no-play", action="store_true", help="do not play the example first")
    practice.add_argument(
        "--max-seconds", type=float, default=audio_mod.DEFAULT_MAX_SECONDS, help="longest take"
    )
    practice.add_argument(
        "--silence", type=float, default=audio_mod.DEFAULT_SILENCE_S, help="seconds of quiet that end a take"
    )
    add("review", "show what is due for review")
    add("devices", "list microphones and speakers")
    add("sync", "upload takes recorded offline")
    add("status", "show server, account, queue and microphone")
    return parser


COMMANDS = {
    "login": cmd_login,
    "logout": cmd_logout,
    "lessons": cmd_lessons,
    "practice": cmd_practice,
    "review": cmd_review,
    "devices": cmd_devices,
    "sync": cmd_sync,
    "status": cmd_status,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = Context(args, sys.stdout, sys.stderr)
    try:
        return COMMANDS[args.command](ctx)
    except ClientError as exc:
        return ctx.fail(exc)
    except KeyboardInterrupt:
        ctx.note("Stopped.")
        return 130
    except Exception as exc:
        if os.environ.get("SAYZHONG_DEBUG"):
            raise
        ctx.note(f"Unexpected error: {type(exc).__name__}: {exc} (set SAYZHONG_DEBUG=1 for details)")
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
