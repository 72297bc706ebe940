"""The shared speech corpora the tone engine is trained and evaluated on, and audio augmentation.

Used by ``scripts/train_tone_model.py``, ``bench/`` and the integration tests; never at run time.
Each corpus lives in ``../shared/data/<name>/`` beside the repository (see its README):

- ``syllables-davinfifield`` — isolated syllables, one female speaker (``<pinyin><tone>.mp3``);
- ``dspspeech20-train`` — two-syllable words, 24 speakers, ordinary microphones;
- ``aishell1-sample`` — read news sentences, 2 speakers, exact transcripts.

Every recording becomes an ``Utterance`` with its speaker, so evaluations can hold out whole
speakers. Augmentation imitates what learners bring: other voices (pitch shift), tempo, background
noise, a reverberant room, a phone's narrow band, low-bitrate Opus and mild clipping.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sayzhong.lazy_imports import import_whole

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_RATE = 16_000

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Utterance:
    corpus: str
    path: Path
    text: str
    """What was read: hanzi, or numbered pinyin for the isolated syllables."""
    speaker: str
    sex: str
    """``f``/``m`` (estimated from pitch by the corpus notes)."""
    flags: tuple[str, ...] = ()
    parts: tuple[Path, ...] = ()
    """For a phrase joined from isolated recordings: the recordings, in order."""

    @property
    def key(self) -> str:
        if self.parts:
            return f"{self.corpus}/" + "+".join(p.stem for p in self.parts)
        return f"{self.corpus}/{self.path.name}"


def davinfifield(data: Path = SHARED_DATA) -> list[Utterance]:
    from sayzhong.pronunciation.text import TextError, expected_syllables

    folder = data / "syllables-davinfifield" / "mp3"
    out = []
    for f in sorted(folder.glob("*.mp3")):
        m = re.fullmatch(r"([a-z]+)([1-4])", f.stem)
        if m:  # neutral-tone and unnumbered files carry no tone label
            syllable = m.group(1).replace("uu", "v")  # the corpus writes ü as "uu"
            try:
                parsed = expected_syllables(f"{syllable}{m.group(2)}")
            except TextError:  # a few non-standard syllables (e.g. "shong")
                continue
            if len(parsed) != 1 or parsed[0].base != syllable or not parsed[0].final:
                continue  # read as something else ("rei" → r + ei, "luun") or a bare nasal
            out.append(Utterance("davinfifield", f, f"{syllable}{m.group(2)}", "davinfifield", "f"))
    return out


def dspspeech(data: Path = SHARED_DATA) -> list[Utterance]:
    folder = data / "dspspeech20-train"
    out = []
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(
                Utterance(
                    "dspspeech",
                    folder / row["audio"],
                    row["hanzi"],
                    str(row["speaker"]),
                    row["sex_estimate"],
                    tuple(row.get("flags", ())),
                )
            )
    return out


def aishell(data: Path = SHARED_DATA) -> list[Utterance]:
    folder = data / "aishell1-sample"
    out = []
    for line in (folder / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(
                Utterance("aishell", folder / row["audio"], row["text"], row["speaker"], row["sex_estimate"])
            )
    return out


def syllable_phrases(data: Path = SHARED_DATA, *, count: int = 600, seed: int = 3) -> list[Utterance]:
    """Phrases of 2-4 isolated syllables of the davinfifield speaker joined with short gaps: what
    a learner who reads syllable by syllable produces (citation tones in a row). No two 3rd tones
    meet, so the expected tones (after sandhi) are the tones spoken."""
    singles = davinfifield(data)
    rng = np.random.default_rng(seed)
    out: list[Utterance] = []
    while len(out) < count and singles:
        picks: list[Utterance] = []
        for _ in range(int(rng.integers(2, 5))):
            u = singles[int(rng.integers(len(singles)))]
            if picks and picks[-1].text.endswith("3") and u.text.endswith("3"):
                continue
            picks.append(u)
        if len(picks) < 2:
            continue
        out.append(
            Utterance(
                "syllable-phrases",
                picks[0].path,
                " ".join(p.text for p in picks),
                "davinfifield",
                "f",
                parts=tuple(p.path for p in picks),
            )
        )
    return out


def all_corpora(data: Path = SHARED_DATA) -> list[Utterance]:
    found = [*davinfifield(data), *dspspeech(data), *aishell(data), *syllable_phrases(data)]
    if not found:
        raise FileNotFoundError(f"no shared corpora under {data}")
    return found


def load_samples(utt: Utterance) -> FloatArray:
    """16 kHz mono float32, decoded as at run time but without the level checks (corpus takes
    may clip; the engine's own handling of clipping is evaluated separately)."""
    from sayzhong.pronunciation.audio import _decode

    if not utt.parts:
        return _decode(utt.path.read_bytes(), 60.0)
    rng = np.random.default_rng(int.from_bytes(utt.key.encode()[-8:], "little"))
    pieces = [np.zeros(int(0.25 * SAMPLE_RATE), np.float32)]
    for part in utt.parts:
        pieces.append(trim_silence(_decode(part.read_bytes(), 60.0)))
        pieces.append(np.zeros(int(rng.uniform(0.03, 0.3) * SAMPLE_RATE), np.float32))
    pieces.append(np.zeros(int(0.25 * SAMPLE_RATE), np.float32))
    return np.concatenate(pieces)


def trim_silence(x: FloatArray, margin_s: float = 0.05) -> FloatArray:
    """Cut leading/trailing silence (isolated recordings carry long, uneven pauses)."""
    frame = 160
    n = x.size // frame
    if n == 0:
        return x
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 0.05)
    if loud.size == 0:
        return x
    pad = int(margin_s * SAMPLE_RATE)
    return x[max(0, int(loud[0]) * frame - pad) : min(x.size, (int(loud[-1]) + 1) * frame + pad)]


# --- augmentation ------------------------------------------------------------------------------

AUGMENTATIONS = ("noise", "reverb", "phone", "opus", "clip", "pitch_up", "pitch_down", "tempo")


def augment(samples: FloatArray, kind: str, rng: np.random.Generator) -> FloatArray:
    """One degraded copy of ``samples`` (16 kHz mono float32)."""
    x = samples.astype(np.float64)
    if kind == "noise":
        x = _add_noise(x, rng.uniform(8.0, 25.0), rng)
    elif kind == "reverb":
        x = _reverb(x, rng.uniform(0.15, 0.5), rng)
    elif kind == "phone":
        x = _band(x, 300.0, 3400.0)
        x = _add_noise(x, rng.uniform(18.0, 30.0), rng)
    elif kind == "opus":
        return opus_roundtrip(samples, int(rng.choice([12_000, 16_000, 24_000])))
    elif kind == "clip":
        peak = float(np.max(np.abs(x))) or 1.0
        x = np.clip(x / peak * rng.uniform(1.3, 2.5), -1.0, 1.0) * 0.99
    elif kind in ("pitch_up", "pitch_down"):
        semitones = rng.uniform(3.0, 7.0) * (1 if kind == "pitch_up" else -1)
        return change_pitch(samples, semitones)
    elif kind == "tempo":
        return change_tempo(samples, rng.uniform(0.75, 1.35), seed=int(rng.integers(2**31)))
    else:
        raise ValueError(f"unknown augmentation {kind!r}")
    return x.astype(np.float32)


def _add_noise(
    x: npt.NDArray[np.float64], snr_db: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    white = rng.normal(0.0, 1.0, x.size)
    # Pink-ish noise (1/f): what fans, rooms and laptop mics add.
    spectrum = np.fft.rfft(white)
    f = np.arange(spectrum.size, dtype=np.float64)
    spectrum /= np.sqrt(np.maximum(f, 1.0))
    noise = np.fft.irfft(spectrum, x.size)
    p_sig = float(np.mean(x**2)) or 1e-9
    noise *= np.sqrt(p_sig / (10 ** (snr_db / 10)) / (float(np.mean(noise**2)) or 1e-12))
    return x + noise


def _reverb(x: npt.NDArray[np.float64], rt60: float, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    import_whole("scipy.signal")
    from scipy.signal import fftconvolve

    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.normal(0.0, 1.0, n) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0 / 0.3
    ir *= 0.3
    y = fftconvolve(x, ir)[: x.size]
    return y * (np.max(np.abs(x)) / (np.max(np.abs(y)) or 1.0))


def _band(x: npt.NDArray[np.float64], lo: float, hi: float) -> npt.NDArray[np.float64]:
    import_whole("scipy.signal")
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [lo, hi], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    return np.asarray(sosfiltfilt(sos, x))


def opus_roundtrip(samples: FloatArray, bitrate: int) -> FloatArray:
    """Encode to WebM/Opus at ``bitrate`` (as a browser's MediaRecorder does) and decode again."""
    import_whole("av")
    import av

    from sayzhong.pronunciation.audio import _decode

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48_000)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return _decode(buf.getvalue(), 60.0)


def change_pitch(samples: FloatArray, semitones: float) -> FloatArray:
    """Praat PSOLA pitch shift with duration kept (another voice's range, same timing)."""
    import_whole("parselmouth.praat")
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    manipulation = call(sound, "To Manipulation", 0.01, 60, 600)
    tier = call(manipulation, "Extract pitch tier")
    call(tier, "Multiply frequencies", sound.xmin, sound.xmax, 2 ** (semitones / 12))
    call([tier, manipulation], "Replace pitch tier")
    out = call(manipulation, "Get resynthesis (overlap-add)")
    return np.asarray(out.values[0], dtype=np.float32)


def change_tempo(samples: FloatArray, factor: float, *, seed: int = 0) -> FloatArray:
    """Praat PSOLA duration change (``factor`` > 1 is slower), pitch kept.

    Praat's overlap-add draws random numbers when it stretches time, so without ``seed`` the same
    call gave a slightly different copy on every run and a fresh training pass a different model."""
    import_whole("parselmouth.praat")
    import parselmouth
    from parselmouth.praat import call, run

    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    manipulation = call(sound, "To Manipulation", 0.01, 60, 600)
    tier = call(manipulation, "Extract duration tier")
    call(tier, "Add point", sound.xmin, factor)
    call([tier, manipulation], "Replace duration tier")
    run(f"random_initializeWithSeedUnsafelyButPredictably ({int(seed)})")
    try:
        out = call(manipulation, "Get resynthesis (overlap-add)")
    finally:
        run("random_initializeSafelyAndUnpredictably ()")
    return np.asarray(out.values[0], dtype=np.float32)


def speaker_folds(utts: list[Utterance], n_folds: int, seed: int = 7) -> Iterator[tuple[int, set[str]]]:
    """(fold, held-out speakers): whole speakers per fold. Each corpus's speakers are spread over
    the folds (so a fold never loses all sentences or all isolated syllables at once), and within
    a corpus the sexes alternate."""
    rng = np.random.default_rng(seed)
    fold_of: dict[str, int] = {}
    offset = 0
    for corpus in sorted({u.corpus for u in utts}):
        speakers = sorted({(u.sex, u.speaker) for u in utts if u.corpus == corpus})
        order = [speakers[int(i)] for i in rng.permutation(len(speakers))]
        order.sort(key=lambda s: s[0])  # stable: by sex, random within
        for i, (_sex, spk) in enumerate(order):
            fold_of[spk] = (offset + i) % n_folds
        offset += len(order)
    for k in range(n_folds):
        yield k, {s for s, f in fold_of.items() if f == k}
