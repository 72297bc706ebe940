"""Speed: time to score a 3-second utterance, decoding included, one process on one core.

The utterance is an espeak-ng rendition of a 12-syllable sentence padded/cut to exactly 3 s,
encoded as WebM/Opus (what browsers upload) and as WAV. After a warm-up, each file is scored
``--runs`` times with ``assess_pronunciation(engine="offline")``; median and p95 are printed.
The process is pinned to one CPU core.

Run: .venv/bin/python bench/pron_speed_bench.py [--runs 300]   (needs espeak-ng, sox, ffmpeg)
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sayzhong.pronunciation.audio import decode_audio  # noqa: E402
from sayzhong.pronunciation.service import assess_pronunciation  # noqa: E402
from sayzhong.settings import Settings  # noqa: E402

TEXT = "今天天气很好我们去公园散步吧"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    for tool in ("espeak-ng", "sox", "ffmpeg"):
        if shutil.which(tool) is None:
            print(f"TOOL MISSING: {tool}")
            return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    settings = Settings(azure_speech_key="")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        subprocess.run(
            ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "200", "-w", str(d / "raw.wav"), TEXT], check=True
        )
        subprocess.run(["sox", str(d / "raw.wav"), "-r", "16000", "-c", "1", str(d / "s.wav")], check=True)
        speech = decode_audio((d / "s.wav").read_bytes()).samples
        exact = np.zeros(3 * 16000, dtype=np.float32)
        exact[: min(speech.size, exact.size)] = speech[: exact.size]
        with wave.open(str(d / "u.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes((exact * 32767).astype("<i2").tobytes())
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(d / "u.wav"),
                "-c:a",
                "libopus",
                "-b:a",
                "32k",
                str(d / "u.webm"),
            ],
            check=True,
        )
        files = {"webm/opus": (d / "u.webm").read_bytes(), "wav": (d / "u.wav").read_bytes()}
    print(
        f"utterance: {TEXT} ({len(TEXT)} syllables, 3.0 s), "
        f"{args.runs} runs after 20 warm-up runs, one core\n"
    )
    print("| input | median | p95 | max |")
    print("|---|---:|---:|---:|")
    for name, data in files.items():
        assert abs(decode_audio(data).duration_s - 3.0) < 0.05, "the utterance must last 3 s"
        for _ in range(20):
            assess_pronunciation(audio=data, text=TEXT, engine="offline", settings=settings)
        times = []
        for _ in range(args.runs):
            t = time.perf_counter()
            assess_pronunciation(audio=data, text=TEXT, engine="offline", settings=settings)
            times.append((time.perf_counter() - t) * 1000)
        ms = np.array(times)
        print(f"| {name} | {np.median(ms):.1f} ms | {np.percentile(ms, 95):.1f} ms | {ms.max():.1f} ms |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
