"""Train the tone classifier on human recordings and write sayzhong/pronunciation/model/tone_model.json.

Data: ../shared/data/syllables-davinfifield/mp3/<pinyin><tone>.mp3 (one speaker, public domain).
Each recording goes through the same pipeline as at run time (decode → Praat F0 → segment), then
features are computed with augmentation that imitates other speakers and conditions:

- reference-pitch error (profile drift): 1 st standard deviation (level network);
- range mismatch (a speaker with a narrower/wider tone range than the profile says): ×0.7–1.35;
- speaking rate: voiced duration ×0.6–1.5 (time-resampled contour);
- alignment error: 0–20 % cut from either end of the voiced part;
- F0 jitter: 0.3 st frame noise;
- for the utterance network: each copy sits in a pretend utterance with 1-4 other recordings,
  and the reference and range are computed from that utterance as at run time.

"Half-third" copies of 3rd tones (the final rise cut off, as before another syllable) were
tried and dropped: they made the networks call clear high-to-low falls 3rd tones.

Pitch shifts (and Praat "Change gender") move everything by a constant in semitones, which the
speaker normalisation removes; they are evaluated, not trained on (bench/tone_bench.py).

Held-out evaluation: 5 folds grouped by base syllable (all tones of "ma" in one fold), so no
recording of a held-out syllable is seen in training. Run: .venv/bin/python scripts/train_tone_model.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threads only add overhead
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sayzhong.pronunciation.analysis import syllable_contours, utterance_normalisation  # noqa: E402
from sayzhong.pronunciation.audio import decode_audio  # noqa: E402
from sayzhong.pronunciation.classifier import (  # noqa: E402
    KINDS,
    MODEL_PATH,
    Network,
    ToneModel,
    tone_features,
    train_network,
)
from sayzhong.pronunciation.pitch import track_pitch  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "syllables-davinfifield" / "mp3"
CACHE = Path("/tmp/sayzhong_tone_contours.npz")
N_AUG = 12


def load_contours(data_dir: Path) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, list[str]]:
    """Voiced F0 (st) of every recording, voiced fractions, tone labels 1..4, base syllables."""
    files = sorted(data_dir.glob("*.mp3"))
    if not files:
        raise SystemExit(f"no recordings in {data_dir}: the training data is missing")
    values: list[np.ndarray] = []
    fractions, tones, bases = [], [], []
    for f in files:
        m = re.fullmatch(r"([a-zü:v]+)([1-5])", f.stem)
        if not m or m.group(2) == "5":
            continue
        audio = decode_audio(f.read_bytes())
        track = track_pitch(audio.samples)
        contours = syllable_contours(track, 1)
        if contours is None or contours[0].values_st.size < 4:
            continue
        values.append(contours[0].values_st)
        fractions.append(contours[0].voiced_fraction)
        tones.append(int(m.group(2)))
        bases.append(m.group(1))
    return values, np.array(fractions), np.array(tones), bases


def speaker_stats(values: list[np.ndarray]) -> tuple[float, float]:
    allv = np.concatenate(values)
    return float(np.median(allv)), float(np.percentile(allv, 95) - np.percentile(allv, 5))


def augment(v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = v.size
    cut_a = int(n * rng.uniform(0, 0.2)) if rng.random() < 0.5 else 0
    cut_b = int(n * rng.uniform(0, 0.2)) if rng.random() < 0.5 else 0
    v = v[cut_a : n - cut_b] if n - cut_a - cut_b >= 4 else v
    new_n = max(4, round(v.size * rng.uniform(0.6, 1.5)))
    v = np.interp(np.linspace(0, 1, new_n), np.linspace(0, 1, v.size), v)
    return v + rng.normal(0, 0.3, v.size)


def build_xy(
    values: list[np.ndarray],
    fractions: np.ndarray,
    tones: np.ndarray,
    ref: float,
    span: float,
    *,
    kind: str,
    n_aug: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Features for network ``kind`` (level / utterance / shape) with ``n_aug`` augmented copies.

    For ``utterance`` each copy is put in a pretend utterance with 1-4 other recordings of the
    training set, and the reference comes from that utterance as at run time.
    """
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    level = kind != "shape"
    for v, frac, tone in zip(values, fractions, tones, strict=True):
        for k in range(n_aug + 1):
            if k == 0 and kind != "utterance":
                vv, r, s = v, ref, span
            else:
                scale = rng.uniform(0.7, 1.35)
                vv = ref + (augment(v, rng) - ref) * scale
                r = ref + rng.normal(0, 1.0 if level else 0.0)
                s = span * rng.uniform(0.85, 1.15)
                if kind == "utterance":
                    partners = [values[int(i)] for i in rng.integers(0, len(values), rng.integers(1, 5))]
                    partners = [ref + (augment(p, rng) - ref) * scale for p in partners]
                    norm = utterance_normalisation([vv, *partners])
                    r, s = norm.ref_st, norm.range_st
            f = tone_features(vv, ref_st=r, range_st=s, voiced_fraction=float(frac), level=level)
            if f is not None:
                xs.append(f)
                ys.append(int(tone) - 1)
    return np.array(xs), np.array(ys, dtype=np.int64)


def evaluate(net: Network, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    pred = net.predict_proba(x).argmax(axis=1)
    conf = np.zeros((4, 4), dtype=np.int64)
    for t, p in zip(y, pred, strict=True):
        conf[t, p] += 1
    return float((pred == y).mean()), conf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-cache", action="store_true")
    args = parser.parse_args()

    t0 = time.time()
    if CACHE.exists() and not args.no_cache:
        z = np.load(CACHE, allow_pickle=True)
        values = list(z["values"])
        fractions, tones, bases = z["fractions"], z["tones"], list(z["bases"])
    else:
        values, fractions, tones, bases = load_contours(args.data)
        np.savez(
            CACHE,
            values=np.array(values, dtype=object),
            fractions=fractions,
            tones=tones,
            bases=np.array(bases),
        )
    print(f"{len(values)} recordings with voiced F0 ({time.time() - t0:.1f} s)")

    uniq = sorted(set(bases))
    rng = np.random.default_rng(42)
    fold_of_base = {b: int(i) % args.folds for i, b in enumerate(rng.permutation(uniq))}
    fold = np.array([fold_of_base[b] for b in bases])
    results: dict[str, list[float]] = {kind: [] for kind in KINDS}
    confs = {kind: np.zeros((4, 4), dtype=np.int64) for kind in KINDS}
    for k in range(args.folds):
        tr, te = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        tr_vals = [values[i] for i in tr]
        ref, span = speaker_stats(tr_vals)  # the "profile" comes from training recordings only
        for kind in KINDS:
            x, y = build_xy(tr_vals, fractions[tr], tones[tr], ref, span, kind=kind, n_aug=N_AUG, seed=k)
            net = train_network(x, y, seed=k)
            xt, yt = build_xy(
                [values[i] for i in te], fractions[te], tones[te], ref, span, kind=kind, n_aug=0, seed=0
            )
            acc, conf = evaluate(net, xt, yt)
            results[kind].append(acc)
            confs[kind] += conf
            print(f"fold {k} {kind}: held-out accuracy {acc:.3f} (n={len(yt)})")
    summary = {}
    for kind in KINDS:
        acc = float(np.trace(confs[kind]) / confs[kind].sum())
        summary[kind] = {"heldout_accuracy": round(acc, 4), "confusion": confs[kind].tolist()}
        print(
            f"{kind}: held-out accuracy {acc:.3f}\nconfusion (rows true 1-4, cols predicted):\n{confs[kind]}"
        )

    ref, span = speaker_stats(values)
    nets = {}
    for kind in KINDS:
        x, y = build_xy(values, fractions, tones, ref, span, kind=kind, n_aug=N_AUG, seed=99)
        nets[kind] = train_network(x, y, seed=99)
    model = ToneModel(
        nets["level"],
        nets["utterance"],
        nets["shape"],
        {
            "data": "syllables-davinfifield (1 female speaker, public domain), isolated syllables",
            "n_recordings": len(values),
            "training_speaker_median_st": round(ref, 3),
            "training_speaker_range_st": round(span, 3),
            "augmentation_per_recording": N_AUG,
            "heldout_by_base_syllable_folds": args.folds,
            "heldout": summary,
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
