"""A local websocket server on 127.0.0.1 that speaks enough of the Speech SDK protocol.

The real SDK sends text frames (speech.config, speech.context carrying the pronunciation
assessment settings) and binary audio frames (2-byte big-endian header length, headers, data;
an empty body ends the stream). We answer turn.start, speech.startDetected, speech.phrase
(the result JSON), speech.endDetected and turn.end. Modes imitate failures.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve


def azure_result(words: list[tuple[str, float]], *, display: str) -> dict[str, Any]:
    """An Azure-like zh-CN assessment result with the given word accuracies."""
    offset = 5_000_000
    out_words = []
    for word, acc in words:
        out_words.append(
            {
                "Word": word,
                "Offset": offset,
                "Duration": 3_000_000 * len(word),
                "PronunciationAssessment": {"AccuracyScore": acc, "ErrorType": "None"},
                "Phonemes": [
                    {"Phoneme": f"p{i}", "PronunciationAssessment": {"AccuracyScore": acc}} for i in range(2)
                ],
            }
        )
        offset += 3_000_000 * len(word)
    return {
        "RecognitionStatus": "Success",
        "Offset": 5_000_000,
        "Duration": offset - 5_000_000,
        "DisplayText": display,
        "NBest": [
            {
                "Confidence": 0.9,
                "Lexical": display,
                "ITN": display,
                "MaskedITN": display,
                "Display": display,
                "PronunciationAssessment": {
                    "AccuracyScore": 80.0,
                    "FluencyScore": 91.0,
                    "CompletenessScore": 100.0,
                    "PronScore": 85.0,
                },
                "Words": out_words,
            }
        ],
    }


@dataclass
class FakeAzure:
    mode: str = "normal"  # normal | cancel | slow | malformed | incomplete
    result: dict[str, Any] = field(default_factory=dict)
    port: int = 0
    paths: list[str] = field(default_factory=list)
    contexts: list[dict[str, Any]] = field(default_factory=list)
    audio_bytes: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Future[None] | None = None
    _thread: threading.Thread | None = None

    def start(self) -> FakeAzure:
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = self._loop.create_future()
            async with serve(self._handle, "127.0.0.1", 0) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                ready.set()
                await self._stop

        self._thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Azure server did not start")
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))
        if self._thread:
            self._thread.join(timeout=10)

    @property
    def host(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _handle(self, ws: ServerConnection) -> None:
        self.paths.append(ws.request.path if ws.request else "")
        request_id = uuid.uuid4().hex
        try:
            async for message in ws:
                if isinstance(message, str):
                    headers, _, body = message.partition("\r\n\r\n")
                    h = _headers(headers)
                    request_id = h.get("x-requestid", request_id)
                    if h.get("path") == "speech.context":
                        self.contexts.append(json.loads(body))
                    continue
                hlen = int.from_bytes(message[:2], "big")
                h = _headers(message[2 : 2 + hlen].decode("utf-8", "replace"))
                request_id = h.get("x-requestid", request_id)
                data = message[2 + hlen :]
                self.audio_bytes += len(data)
                if data:
                    continue
                await self._answer(ws, request_id)
                return
        except Exception:  # client went away (e.g. after its timeout)
            return

    async def _answer(self, ws: ServerConnection, rid: str) -> None:
        if self.mode == "slow":
            await asyncio.sleep(30)
            return
        if self.mode == "cancel":
            await ws.close(code=1011, reason="Internal service error (fake)")
            return
        await ws.send(_msg(rid, "turn.start", {"context": {"serviceTag": "fake"}}))
        await ws.send(_msg(rid, "speech.startDetected", {"Offset": 5_000_000}))
        if self.mode == "malformed":
            await ws.send(
                _msg(
                    rid,
                    "speech.phrase",
                    {
                        "RecognitionStatus": "Success",
                        "Offset": 0,
                        "Duration": 1,
                        "DisplayText": "x",
                        "NBest": [{"Words": "oops"}],
                    },
                )
            )
        else:
            await ws.send(_msg(rid, "speech.phrase", self.result))
        await ws.send(_msg(rid, "speech.endDetected", {"Offset": 20_000_000}))
        await ws.send(_msg(rid, "turn.end", {}))


def _headers(text: str) -> dict[str, str]:
    out = {}
    for line in text.split("\r\n"):
        k, _, v = line.partition(":")
        out[k.strip().lower()] = v.strip()
    return out


def _msg(rid: str, path: str, body: dict[str, Any]) -> str:
    return (
        f"X-RequestId: {rid}\r\nPath: {path}\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
        + json.dumps(body, ensure_ascii=False)
    )
