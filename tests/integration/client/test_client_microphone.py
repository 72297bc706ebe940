"""`practice` records from a virtual microphone (ALSA file plugin) and prints per-syllable feedback."""

from __future__ import annotations

import io
import json
import re
import wave

import numpy as np
from clientharness import Backend, Client, Speech

from sayzhong.db import session_scope
from sayzhong.practice import service as practice


def test_practice_records_the_microphone_and_the_server_scores_that_audio(
    backend: Backend, client: Client, speech: Speech
) -> None:
    backend.server().start()
    client.save_token(backend.token)
    client.virtual_microphone(speech.raw)

    result = client.run(
        "--server", backend.url, "practice", "greetings", "--phrase", "1", "--device", "0", "--json"
    )

    assert result.returncode == 0, result.stderr
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    assert reply["offline"] is False and reply["queued"] is False
    attempt = reply["attempt"]
    assert attempt["item_id"] == "greetings.hello"
    assert [s["grapheme"] for s in attempt["syllables"]] == ["你", "好"]
    assert all(s["verdict"] in {"correct", "wrong_tone", "unclear"} for s in attempt["syllables"])
    assert "Played the example" in result.stderr
    assert re.search(r"Recorded \d+\.\d s from 0: default .*after you stopped speaking", result.stderr)
    # The server stored exactly what the virtual microphone delivered.
    assert [a[0] for a in backend.attempts()] == [attempt["id"]]
    with session_scope() as session:
        stored = practice.attempt_audio_path(
            session=session, user_id=backend.user_id, attempt_id=attempt["id"]
        )
    with wave.open(io.BytesIO(stored.read_bytes())) as wav:
        assert wav.getframerate() == 16_000
        recorded = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    spoken = np.fromfile(speech.raw, dtype="<i2")
    # Everything spoken arrived unchanged (the recorder may stop inside the take's quiet tail).
    n = min(len(recorded), len(spoken))
    assert n > len(spoken) - 8_000
    assert np.array_equal(recorded[:n], spoken[:n])
    assert len(recorded) < len(spoken) + 16_000  # stopped on the trailing silence, not at 15 s


def test_practice_prints_coloured_verdicts_as_plain_text_in_80_columns(
    backend: Backend, client: Client, speech: Speech
) -> None:
    backend.server().start()
    client.save_token(backend.token)
    client.virtual_microphone(speech.raw)

    result = client.run("--server", backend.url, "practice", "greetings", "--no-play")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # NO_COLOR is set for every client run
    assert "你好" in out and "Hello." in out
    rows = [line for line in out.splitlines() if re.match(r"^(✓|✗|\?)\s", line)]
    assert len(rows) == 2
    for row in rows:
        # mark, hanzi, pinyin, expected tone, heard tone, score
        assert re.match(r"^(✓|✗|\?)\s+\S\s+(ni3|hao3)\s+[1-4]\s+([1-4]|\?)\s+\d+", row), row
    assert "expect" in out and "heard" in out
    assert (
        max(len(line) + sum(1 for ch in line if "\u4e00" <= ch <= "\u9fff") for line in out.splitlines())
        <= 80
    )


def test_without_a_microphone_practice_says_how_to_fix_it(backend: Backend, client: Client) -> None:
    backend.server().start()
    client.save_token(backend.token)
    client.speakers_only()

    result = client.run("--server", backend.url, "practice", "greetings", "--no-play")

    assert result.returncode == 1
    assert "No microphone was found" in result.stderr and "--wav FILE" in result.stderr
    assert client.queued() == [] and backend.attempts() == []
    devices = client.run("devices")
    assert devices.returncode == 0 and "No microphone found" in devices.stdout


def test_devices_lists_the_virtual_microphone(client: Client, speech: Speech) -> None:
    client.virtual_microphone(speech.raw)
    result = client.run("devices", "--json")
    assert result.returncode == 0, result.stderr
    devices = json.loads(result.stdout)["devices"]
    default = next(d for d in devices if d["is_default_input"])
    assert default["max_input_channels"] > 0 and default["name"] == "default"
