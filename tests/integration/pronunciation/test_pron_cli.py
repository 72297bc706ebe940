"""`python -m sayzhong score` / `calibrate` as a learner or operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "AZURE_SPEECH_KEY": "", "ENV": "test"}
    return subprocess.run(
        [sys.executable, "-m", "sayzhong", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_score_prints_a_table(speech_source: Path) -> None:
    proc = run("score", str(speech_source), "--text", "我想喝茶")
    assert proc.returncode == 0, proc.stderr
    assert "expected" in proc.stdout and "heard" in proc.stdout
    assert "喝" in proc.stdout and "1 high" in proc.stdout
    assert "Pron " in proc.stdout
    assert "engine offline" in proc.stdout


def test_score_json_with_pinyin_text(speech_source: Path) -> None:
    proc = run("score", str(speech_source), "--text", "wǒ xiǎng hē chá", "--engine", "offline", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["Engine"] == "offline"
    assert [s["ExpectedTone"] for w in result["NBest"][0]["Words"] for s in w["Syllables"]] == [2, 3, 1, 2]


def test_score_reports_unusable_audio_plainly(tmp_path: Path) -> None:
    png = tmp_path / "photo.wav"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    proc = run("score", str(png), "--text", "你好")
    assert proc.returncode == 1
    assert "audio_unsupported" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_batch_writes_one_json_line_per_input(
    speech_source: Path, encode: Callable[[str], Path], tmp_path: Path
) -> None:
    batch = tmp_path / "batch.jsonl"
    lines = [
        {"audio": str(speech_source), "text": "我想喝茶"},
        {"audio": str(encode("mp3")), "text": "wo3 xiang3 he1 cha2"},
        {"audio": str(tmp_path / "missing.wav"), "text": "你好"},
    ]
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n")
    proc = run("score", "--batch", str(batch))
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 4
    assert out[0]["Engine"] == "offline" and out[0]["audio"] == str(speech_source)
    assert out[1]["NBest"][0]["PronunciationAssessment"]["ToneScore"] > 50
    assert out[2]["error"]["code"] == "file_unreadable"
    assert out[3]["error"]["code"] == "bad_line"
    assert proc.returncode == 1


def test_calibrate_then_score_with_profile(
    espeak_phrase: Callable[[str], Path], speech_source: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "calib.jsonl"
    texts = ["我想喝茶", "你好", "谢谢"]
    batch.write_text(
        "\n".join(json.dumps({"audio": str(espeak_phrase(t)), "text": t}, ensure_ascii=False) for t in texts)
    )
    proc = run("calibrate", "--batch", str(batch))
    assert proc.returncode == 0, proc.stderr
    profile = json.loads(proc.stdout)
    assert profile["format"] == "sayzhong-speaker-profile/1"
    assert 80 < profile["median_hz"] < 300
    path = tmp_path / "profile.json"
    path.write_text(proc.stdout)
    scored = run("score", str(speech_source), "--text", "我想喝茶", "--profile", str(path), "--json")
    assert scored.returncode == 0, scored.stderr
    result = json.loads(scored.stdout)
    assert result["SpeakerProfileUsed"] is True and result["Normalisation"] == "profile"


def test_score_without_text_is_a_usage_error() -> None:
    proc = run("score")
    assert proc.returncode == 2


@pytest.mark.parametrize("args", [["calibrate"], ["score", "x.wav", "--engine", "magic"]])
def test_bad_arguments_exit_non_zero(args: list[str]) -> None:
    assert run(*args).returncode != 0
