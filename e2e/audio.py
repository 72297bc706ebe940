"""Audio fixtures made during the test run: real human recordings joined into phrases, espeak-ng
Mandarin speech, and copies where Praat imposes a different tone on one syllable."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import parselmouth
from parselmouth.praat import call

# Tone shapes in semitones relative to the speaker's mid pitch (start, middle, end).
TONE_SHAPES = {1: (4.0, 4.0, 4.0), 2: (-1.0, 1.5, 5.0), 3: (-2.0, -6.0, -3.0), 4: (6.0, 1.0, -5.0)}


def speech_wav(text: str, out: Path, *, speed: int = 120, lead_s: float = 0.5, tail_s: float = 2.5) -> Path:
    """Mandarin speech from espeak-ng (`cmn-latn-pinyin` takes hanzi), 48 kHz mono 16-bit with
    silence around it so the recorder's trailing-silence stop fires."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", str(speed), "-w", str(raw), text], check=True
        )
        subprocess.run(
            [
                "sox",
                str(raw),
                "-r",
                "48000",
                "-c",
                "1",
                "-b",
                "16",
                str(out),
                "pad",
                str(lead_s),
                str(tail_s),
            ],
            check=True,
        )
    return out


def human_wav(pinyin: str, out: Path, *, lead_s: float = 0.5, tail_s: float = 2.5) -> Path:
    """Real human speech: numbered pinyin syllables ("jin1 tian1"), each from the public-domain
    recordings of one native speaker in ../shared/data/syllables-davinfifield, joined with short
    gaps, as 48 kHz mono 16-bit with silence around it."""
    from tests.support.human_speech import syllable_samples

    samples = syllable_samples(pinyin, lead_s=lead_s, tail_s=tail_s)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        raw.write_bytes(_wav16k(samples))
        subprocess.run(["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(out)], check=True)
    return out


def _wav16k(samples: np.ndarray) -> bytes:
    from tests.support.human_speech import to_wav

    return to_wav(samples)


def voiced_spans(path: Path, *, min_gap_s: float = 0.025) -> list[tuple[float, float]]:
    pitch = parselmouth.Sound(str(path)).to_pitch(time_step=0.005, pitch_floor=75, pitch_ceiling=600)
    f0 = pitch.selected_array["frequency"]
    times = pitch.xs()
    spans: list[tuple[float, float]] = []
    start = None
    last = None
    for t, hz in zip(times, f0, strict=True):
        if hz > 0:
            if start is None:
                start = t
            elif last is not None and t - last > min_gap_s:
                spans.append((start, last))
                start = t
            last = t
    if start is not None and last is not None:
        spans.append((start, last))
    return [s for s in spans if s[1] - s[0] >= 0.04]


def impose_tone(src: Path, out: Path, *, syllable: int, syllables: int, tone: int) -> Path:
    """Copy `src` with syllable number `syllable` (0-based) re-pitched to `tone` (PSOLA)."""
    spans = voiced_spans(src)
    if len(spans) != syllables:
        raise AssertionError(f"expected {syllables} voiced stretches, found {len(spans)}: {spans}")
    start, end = spans[syllable]
    sound = parselmouth.Sound(str(src))
    pitch = sound.to_pitch(pitch_floor=75, pitch_ceiling=600)
    f0 = pitch.selected_array["frequency"]
    mid_hz = float(np.median(f0[f0 > 0]))
    manipulation = call(sound, "To Manipulation", 0.01, 75, 600)
    tier = call(manipulation, "Extract pitch tier")
    call(tier, "Remove points between", start - 0.01, end + 0.01)
    for frac, st in zip((0.0, 0.5, 1.0), TONE_SHAPES[tone], strict=True):
        call(tier, "Add point", start + frac * (end - start), mid_hz * 2 ** (st / 12))
    call([tier, manipulation], "Replace pitch tier")
    resynth = call(manipulation, "Get resynthesis (overlap-add)")
    resynth.save(str(out), "WAV")
    return out
