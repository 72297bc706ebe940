"""Tone accuracy and tone-error detection on real human speech, held out by syllable.

Data: ../shared/data/syllables-davinfifield/mp3 (1 female speaker, 1,632 isolated syllables).
The shipped model was trained on all of these, so this benchmark retrains one model per fold
(5 folds grouped by base syllable, same recipe as scripts/train_tone_model.py) and scores each
held-out recording through the full run-time pipeline (decode → Praat F0 → segmentation →
features → classifier) with the fold's model. Conditions:

- female (original) and male (Praat "Change gender": pitch median halved, formants ×0.85);
- with a speaker profile (built from 30 calibration recordings of the same voice, taken from
  the training folds) and without one (shape-only normalisation);
- isolated syllables and two-syllable sequences made by joining two held-out recordings.

Detection: a syllable is flagged when P(expected tone) < scoring.TONE_ERROR_THRESHOLD.
False alarm = flagged although the expected tone is the spoken one; miss = accepted when the
expected tone is one of the three other tones.

Run: .venv/bin/python bench/tone_bench.py [--limit N]   (needs ../shared; ~5-8 minutes)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sayzhong.pronunciation.analysis import (  # noqa: E402
    Normalisation,
    SyllableContour,
    judge,
    syllable_contours,
    utterance_normalisation,
)
from sayzhong.pronunciation.audio import decode_audio  # noqa: E402
from sayzhong.pronunciation.classifier import KINDS, NOMINAL_RANGE_ST, ToneModel, train_network  # noqa: E402
from sayzhong.pronunciation.pitch import track_pitch  # noqa: E402
from sayzhong.pronunciation.scoring import TONE_ERROR_THRESHOLD  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "syllables-davinfifield" / "mp3"
MALE_CACHE = Path("/tmp/sayzhong_bench_male.npz")
N_CALIBRATION = 30


def _load_train_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "train_tone_model", REPO / "scripts" / "train_tone_model.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def change_gender(samples: np.ndarray) -> np.ndarray:
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(samples.astype(np.float64), 16000)
    pitch = sound.to_pitch_ac(pitch_floor=75, pitch_ceiling=600)
    median = call(pitch, "Get quantile", 0, 0, 0.5, "Hertz")
    if not np.isfinite(median) or median <= 0:
        median = 250.0
    male = call(sound, "Change gender", 75, 600, 0.85, median / 2.0, 1.0, 1.0)
    out = np.asarray(male.values[0], dtype=np.float32)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0, help="use only every k-th recording (quick run)")
    parser.add_argument("--pairs", type=int, default=400, help="two-syllable sequences per fold and voice")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"DATA MISSING: {DATA} not found; this benchmark needs ../shared/data/syllables-davinfifield")
        return 2
    train = _load_train_module()
    files = []
    for f in sorted(DATA.glob("*.mp3")):
        m = re.fullmatch(r"([a-zü:v]+)([1-4])", f.stem)
        if m:
            files.append((f, m.group(1), int(m.group(2))))
    if args.limit:
        files = files[:: args.limit]
    t0 = time.time()
    female = [decode_audio(f.read_bytes()).samples for f, _, _ in files]
    if MALE_CACHE.exists() and not args.limit:
        male = list(np.load(MALE_CACHE, allow_pickle=True)["male"])
    else:
        male = [change_gender(s) for s in female]
        if not args.limit:
            np.savez(MALE_CACHE, male=np.array(male, dtype=object))
    print(f"{len(files)} recordings decoded, male copies made ({time.time() - t0:.0f} s)")

    voices = {"female": female, "male (Change gender)": male}
    tracks = {v: [track_pitch(s) for s in samples] for v, samples in voices.items()}
    contours = {v: [syllable_contours(t, 1) for t in ts] for v, ts in tracks.items()}
    tones = np.array([t for _, _, t in files])
    bases = [b for _, b, _ in files]
    rng = np.random.default_rng(42)
    uniq = sorted(set(bases))
    fold_of_base = {b: int(i) % 5 for i, b in enumerate(rng.permutation(uniq))}
    fold = np.array([fold_of_base[b] for b in bases])

    stats: dict[tuple[str, str, str], dict[str, list[int]]] = {}

    def record(key: tuple[str, str, str], true: int, probs: np.ndarray | None) -> None:
        s = stats.setdefault(key, {"true": [], "pred": [], "fa": [], "miss": []})
        pred = 0 if probs is None else int(np.argmax(probs)) + 1
        s["true"].append(true)
        s["pred"].append(pred)
        p = np.zeros(4) if probs is None else probs
        s["fa"].append(int(p[true - 1] < TONE_ERROR_THRESHOLD))
        for other in range(1, 5):
            if other != true:
                s["miss"].append(int(p[other - 1] >= TONE_ERROR_THRESHOLD))

    for k in range(5):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        tr_ok = [i for i in tr if contours["female"][i] and contours["female"][i][0].values_st.size >= 4]
        vals = [contours["female"][i][0].values_st for i in tr_ok]
        fracs = np.array([contours["female"][i][0].voiced_fraction for i in tr_ok])
        ref, span = train.speaker_stats(vals)
        nets = {}
        for kind in KINDS:
            x, y = train.build_xy(vals, fracs, tones[tr_ok], ref, span, kind=kind, n_aug=train.N_AUG, seed=k)
            nets[kind] = train_network(x, y, seed=k)
        model = ToneModel(nets["level"], nets["utterance"], nets["shape"], {})
        calib = rng.choice(tr, size=min(N_CALIBRATION, tr.size), replace=False)
        for voice in voices:
            allv = np.concatenate([tracks[voice][i].f0_st[tracks[voice][i].voiced] for i in calib])
            prof = Normalisation(
                float(np.median(allv)), float(np.percentile(allv, 95) - np.percentile(allv, 5)), "profile"
            )
            for i in te:
                cs = contours[voice][i]
                c = cs[0] if cs else None
                for mode in ("profile", "none"):
                    probs = None
                    if c is not None:
                        norm = prof if mode == "profile" else _shape_norm(c)
                        probs = judge(c, norm, model).probabilities
                    record((voice, mode, "isolated"), int(tones[i]), probs)
            # Two-syllable sequences from held-out recordings of this voice.
            for _ in range(args.pairs):
                a, b = rng.choice(te, size=2, replace=False)
                joined = np.concatenate(
                    [_trim(voices[voice][a]), np.zeros(320, np.float32), _trim(voices[voice][b])]
                )
                track = track_pitch(joined)
                cs2 = syllable_contours(track, 2)
                for mode in ("profile", "none", "none, level network"):
                    for j, idx in enumerate((a, b)):
                        probs = None
                        if cs2 is not None:
                            norm = prof if mode == "profile" else _utterance_norm(*cs2)
                            if (
                                mode == "none, level network"
                            ):  # ablation: utterance reference, profile network
                                norm = Normalisation(norm.ref_st, norm.range_st, "profile")
                            probs = judge(cs2[j], norm, model).probabilities
                        record((voice, mode, "two-syllable"), int(tones[idx]), probs)
        print(f"fold {k} done ({time.time() - t0:.0f} s)")

    print()
    print("| voice | profile | material | n | accuracy | false alarm | miss |")
    print("|---|---|---|---:|---:|---:|---:|")
    for (voice, mode, material), s in stats.items():
        true, pred = np.array(s["true"]), np.array(s["pred"])
        shown = "yes" if mode == "profile" else mode.replace("none", "no")
        print(
            f"| {voice} | {shown} | {material} | {true.size} | "
            f"{100 * (true == pred).mean():.1f} % | {100 * np.mean(s['fa']):.1f} % | "
            f"{100 * np.mean(s['miss']):.1f} % |"
        )
    for key in (
        ("female", "profile", "isolated"),
        ("female", "none", "isolated"),
        ("male (Change gender)", "profile", "isolated"),
    ):
        s = stats[key]
        conf = np.zeros((4, 5), dtype=int)
        for t, p in zip(s["true"], s["pred"], strict=True):
            conf[t - 1, p - 1 if p else 4] += 1
        print(f"\nconfusion {key} (rows: true tone 1-4; cols: predicted 1-4, undecided)")
        for t in range(4):
            print(f"  tone {t + 1}: " + " ".join(f"{v:4d}" for v in conf[t]))
    print(f"\ntotal {time.time() - t0:.0f} s")
    return 0


def _shape_norm(*cs: SyllableContour) -> Normalisation:
    v = np.concatenate([c.values_st for c in cs])
    return Normalisation(float(np.median(v)) if v.size else 0.0, NOMINAL_RANGE_ST, "shape-only")


def _utterance_norm(*cs: SyllableContour) -> Normalisation:
    usable = [c.values_st for c in cs if c.values_st.size >= 4]
    return utterance_normalisation(usable) if len(usable) >= 2 else _shape_norm(*cs)


def _trim(samples: np.ndarray) -> np.ndarray:
    """Cut leading/trailing silence (below -35 dB of the peak frame) so joined syllables abut."""
    frame = 160
    n = samples.size // frame
    rms = np.sqrt(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > -35)
    if loud.size == 0:
        return samples
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


if __name__ == "__main__":
    raise SystemExit(main())
