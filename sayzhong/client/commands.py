"""Account, lesson-list, review, device and status commands (the session with the server).

Each `cmd_*` takes the `Context` and returns an exit code; practising is in `practice.py`,
uploading queued takes in `sync.py`.
"""

from __future__ import annotations

import getpass
import sys
from dataclasses import asdict
from typing import Any

from sayzhong.client import audio as audio_mod
from sayzhong.client import offline, render
from sayzhong.client.api import ApiRequestError, ClientError, ServerUnreachableError
from sayzhong.client.config import config_dir, delete_token, read_token, save_token
from sayzhong.client.context import EXIT_OK, Context
from sayzhong.client.queue import OfflineQueue


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
