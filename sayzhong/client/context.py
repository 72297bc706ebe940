"""What every client command works with: parsed arguments, the server, saved config and the output.

Exit codes: 0 done (also when a take was scored offline and queued), 1 failed, 2 bad usage,
3 the access token is missing, expired or revoked (run `login`).
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any, TextIO

from sayzhong.client import render
from sayzhong.client.api import ApiClient, AuthProblemError, ClientError
from sayzhong.client.config import ClientConfig, read_token

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_AUTH = 0, 1, 2, 3


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
