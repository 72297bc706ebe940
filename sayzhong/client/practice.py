"""`practice`: the recording loop — pick phrases, play the example, record or read a file, then
submit the take, or score it on this computer and queue it when the server cannot take it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sayzhong.client import audio as audio_mod
from sayzhong.client import offline, render
from sayzhong.client.api import (
    MAX_UPLOAD_BYTES,
    ApiRequestError,
    AuthProblemError,
    ClientError,
    FileTooLargeError,
    ServerUnreachableError,
)
from sayzhong.client.context import EXIT_AUTH, EXIT_OK, Context
from sayzhong.client.queue import OfflineQueue, new_idempotency_key


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
