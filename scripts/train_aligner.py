"""Train the forced aligner and write sayzhong/pronunciation/model/aligner_model.npz.

Data (../shared/data, relative to the repository's parent):

- syllables-davinfifield/mp3/<pinyin><tone>.mp3: 1,632 isolated syllables, one female speaker
  (ü is written ``uu`` in the file names; a few names have no tone digit);
- dspspeech20-train: 1,152 two-syllable words, 24 speakers;
- aishell1-sample: 60 read sentences, 2 speakers (pinyin from the hanzi via text.py).

Acoustic training: flat start (the speech between energy-trimmed silences split evenly over the
states of the expected units), then Viterbi (embedded) re-estimation passes with mixtures
split 1 → 2 → 4 → 8 Gaussians per state. Every recording is used clean and as one augmented copy
(additive coloured noise at 15–30 dB SNR, sometimes a little synthetic reverberation, a
vocal-tract-length warp of the mel filters by 0.88–1.12 so the single davinfifield voice also
sounds like other speakers). The augmented copy reuses the clean copy's alignment.

Calibration: 4 speaker-disjoint folds (6 dspspeech speakers each; the aishell speaker S0150 is
held out in folds 0-1, S0252 in folds 2-3; davinfifield always trains). A model trained without
the fold's speakers aligns their recordings against the right text, another text, a text twice
as long (partial takes) and with extra words, and the presence logistic regression is fitted on
those held-out syllables. The final model is trained on everything and gets that calibration.

Run: .venv/bin/python scripts/train_aligner.py   (fold models are cached in /tmp for
bench/align_bench.py, keyed by a hash of the data list and the pipeline parameters).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threads only add overhead
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from scipy.signal import fftconvolve, lfilter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sayzhong.pronunciation import acoustic  # noqa: E402
from sayzhong.pronunciation.aligner import (  # noqa: E402
    DEFAULT_CONFIG,
    MODEL_PATH,
    AcousticModel,
    RawAlignment,
    empty_layout,
    forced_graph,
    node_emissions,
    raw_align,
    structured_posteriors,
    unit_states,
    viterbi,
)
from sayzhong.pronunciation.audio import AudioClippedError, _decode, decode_audio  # noqa: E402
from sayzhong.pronunciation.phones import SIL, split_pinyin, syllable_units  # noqa: E402
from sayzhong.pronunciation.text import expected_syllables  # noqa: E402

DATA = REPO.parent / "shared" / "data"
SEED = 20240611
TRAIN_VERSION = 2  # bump when training changes: the fold-model cache is keyed by it
PASSES = (1, 1, 2, 2, 4, 4, 8, 8)
VAR_FLOOR = 0.03  # of the global variance of each dimension
N_FOLDS = 4
TRAIN_CONFIG = {
    **DEFAULT_CONFIG,
    "garbage_penalty": 1e9,
    "delete_penalty": 1e9,
}  # training text is right: no garbage
Units = list[tuple[tuple[str, ...], tuple[str, ...]]]


@dataclass
class Utt:
    key: str
    corpus: str
    speaker: str
    text: str
    """Text identity (pinyin without tones) for choosing "another text"."""
    units: Units
    samples: np.ndarray
    x: np.ndarray = field(default_factory=lambda: np.zeros((0, acoustic.DIM)))
    x_aug: np.ndarray = field(default_factory=lambda: np.zeros((0, acoustic.DIM)))


def _read(path: Path) -> np.ndarray:
    data = path.read_bytes()
    try:
        return decode_audio(data, max_seconds=60.0).samples
    except AudioClippedError:
        return _decode(data, 60.0)


def load_corpus(data: Path = DATA) -> list[Utt]:
    utts: list[Utt] = []
    for f in sorted((data / "syllables-davinfifield" / "mp3").glob("*.mp3")):
        m = re.fullmatch(r"([a-z:]+)([1-5]?)", f.stem)
        if not m:
            continue
        try:
            ini, fin = split_pinyin(m.group(1))
        except ValueError:
            print(f"  skipped {f.name}: not a syllable we can decompose")
            continue
        utts.append(Utt(f.stem, "dav", "davinfifield", m.group(1), [syllable_units(ini, fin)], _read(f)))
    root = data / "dspspeech20-train"
    for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        bases = [re.sub(r"\d", "", p) for p in r["pinyin"].split()]
        units = [syllable_units(*split_pinyin(b)) for b in bases]
        utts.append(Utt(r["audio"], "dsp", r["speaker"], " ".join(bases), units, _read(root / r["audio"])))
    root = data / "aishell1-sample"
    for line in (root / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        syls = expected_syllables(r["text"])
        units = [syllable_units(s.initial, s.final) for s in syls]
        text = " ".join(s.base for s in syls)
        utts.append(Utt(r["audio"], "aishell", r["speaker"], text, units, _read(root / r["audio"])))
    return utts


# --- augmentation -------------------------------------------------------------------------


def coloured_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """White noise with a random spectral tilt (white … brown-ish), unit RMS."""
    white = rng.normal(0, 1, n)
    pole = rng.uniform(0.0, 0.97)
    noise = lfilter([1.0], [1.0, -pole], white)
    return np.asarray(noise / (np.sqrt(np.mean(noise**2)) + 1e-12))


def add_noise(rng: np.random.Generator, x: np.ndarray, snr_db: float) -> np.ndarray:
    fr = x[: x.size // 160 * 160].reshape(-1, 160) if x.size >= 160 else x[None, :]
    speech_power = float(np.percentile(np.mean(fr**2, axis=1), 90))  # power of the loud part
    noise = coloured_noise(rng, x.size) * np.sqrt(speech_power / 10 ** (snr_db / 10))
    return np.asarray(x + noise, dtype=np.float32)


def reverberate(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    rt60 = rng.uniform(0.15, 0.45)
    n = int(rt60 * acoustic.SAMPLE_RATE)
    t = np.arange(n) / acoustic.SAMPLE_RATE
    rir = rng.normal(0, 1, n) * np.exp(-6.9 * t / rt60)
    rir[0] = 1.0 / rng.uniform(0.2, 0.6)  # direct path dominates: a room, not a cathedral
    y = fftconvolve(x, rir)[: x.size]
    return np.asarray(y * (np.max(np.abs(x)) / (np.max(np.abs(y)) + 1e-9)), dtype=np.float32)


def augment(rng: np.random.Generator, x: np.ndarray) -> tuple[np.ndarray, float]:
    y = reverberate(rng, x) if rng.random() < 0.4 else x
    y = add_noise(rng, y, rng.uniform(15.0, 30.0))
    return y, float(rng.uniform(0.88, 1.12))


def compute_features(utts: list[Utt], seed: int = SEED) -> None:
    rng = np.random.default_rng(seed)
    for u in utts:
        u.x = acoustic.features(u.samples)
        y, warp = augment(rng, u.samples)
        u.x_aug = acoustic.normalise(acoustic.mfcc_static(y, warp=warp))


# --- training -------------------------------------------------------------------------------


def new_model(dim: int, k: int = 1) -> AcousticModel:
    layout = empty_layout()
    s = sum(unit_states(u) for u in layout)
    return AcousticModel(
        np.zeros((s, k, dim)), np.ones((s, k, dim)), np.log(np.full((s, k), 1.0 / k)), layout, TRAIN_CONFIG
    )


def flat_labels(model: AcousticModel, u: Utt) -> np.ndarray:
    """Uniform segmentation of the trimmed speech over the expected states; silence outside."""
    e = u.x[:, 0]
    loud = np.flatnonzero(e > -30.0 / 10.0 * np.log(10.0) * acoustic.ENERGY_SCALE)  # within 30 dB
    graph = forced_graph(model, u.units)
    cols = graph.column[(graph.syllable >= 0) & ~graph.filler]
    t_len = u.x.shape[0]
    sil0 = model.unit_offset[SIL]
    labels = np.full(t_len, sil0 + 1)
    if loud.size == 0:
        return labels
    a, b = int(loud[0]), int(loud[-1]) + 1
    if b - a < cols.size:
        a, b = 0, t_len
        if b - a < cols.size:
            return np.full(t_len, -1)
    labels[a:b] = cols[(np.arange(b - a) * cols.size) // (b - a)]
    labels[: a // 2] = sil0
    labels[b + (t_len - b) // 2 :] = sil0 + 2
    return labels


def align_labels(model: AcousticModel, u: Utt) -> np.ndarray:
    """State of every frame on the forced path (edges and pauses → their best silence state)."""
    graph = forced_graph(model, u.units)
    if u.x.shape[0] < int(np.sum((graph.syllable >= 0) & ~graph.filler)) + 2:
        return np.full(u.x.shape[0], -1)
    ll = model.log_likelihoods(u.x)
    emis, _ = node_emissions(model, ll, graph)
    path, _ = viterbi(emis, graph)
    cols = graph.column[path]
    sil = model.sil_states()
    best_sil = sil[ll[:, sil].argmax(axis=1)]
    return np.where(cols >= model.n_states, best_sil, cols)


def estimate(model: AcousticModel, x: np.ndarray, labels: np.ndarray, k: int, floor: np.ndarray) -> None:
    """Re-estimate every state's mixture from its frames (a few EM steps; split to ``k``)."""
    s, k_old, d = model.means.shape
    means = np.zeros((s, k, d))
    variances = np.ones((s, k, d))
    logw = np.full((s, k), np.log(1.0 / k))
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(s + 1))
    for st in range(s):
        xs = x[order[bounds[st] : bounds[st + 1]]]
        if xs.shape[0] < 2 * k * 5:  # too few frames: keep a single broad Gaussian
            mu = xs.mean(axis=0) if xs.shape[0] else model.means[st].mean(axis=0)
            var = xs.var(axis=0) if xs.shape[0] > 3 else np.ones(d)
            means[st] = mu
            variances[st] = np.maximum(var, floor)
            continue
        if k_old == 1 and not model.means[st].any():
            mu0, var0, w0 = xs.mean(axis=0)[None], np.maximum(xs.var(axis=0), floor)[None], np.zeros(1)
        else:
            mu0, var0, w0 = model.means[st], model.variances[st], model.log_weights[st]
        while mu0.shape[0] < k:  # split every component along its standard deviation
            sd = np.sqrt(var0)
            mu0 = np.concatenate([mu0 - 0.2 * sd, mu0 + 0.2 * sd])
            var0 = np.concatenate([var0, var0])
            w0 = np.concatenate([w0, w0]) - np.log(2.0)
        mu, var, lw = mu0.copy(), var0.copy(), w0.copy()
        for _ in range(3):
            inv = 1.0 / var
            comp = (
                (xs * xs) @ (-0.5 * inv).T
                + xs @ (mu * inv).T
                + lw
                - 0.5 * np.sum(mu**2 * inv + np.log(var), axis=1)
            )
            comp -= comp.max(axis=1, keepdims=True)
            post = np.exp(comp)
            post /= post.sum(axis=1, keepdims=True)
            occ = post.sum(axis=0) + 1e-6
            mu = (post.T @ xs) / occ[:, None]
            var = np.maximum((post.T @ (xs * xs)) / occ[:, None] - mu**2, floor)
            lw = np.log(np.maximum(occ / occ.sum(), 1e-4))
        means[st], variances[st], logw[st] = mu, var, lw
    model.means, model.variances, model.log_weights = means, variances, logw
    model.refresh()


def train(utts: list[Utt], *, log: bool = True) -> AcousticModel:
    t0 = time.time()
    x_all = np.concatenate([u.x for u in utts] + [u.x_aug for u in utts])
    floor = VAR_FLOOR * x_all.var(axis=0)
    model = new_model(acoustic.DIM)
    labels = [flat_labels(model, u) for u in utts]
    k = 1
    for p, k_next in enumerate((1, *PASSES)):
        lab = np.concatenate(labels + labels)
        keep = lab >= 0
        estimate(model, x_all[keep], lab[keep], k_next, floor)
        k = k_next
        if p == len(PASSES):
            break
        labels = [align_labels(model, u) for u in utts]
        if log:
            print(f"    pass {p + 1}: {k} Gaussian(s)/state, {time.time() - t0:.0f} s", flush=True)
    model.config = dict(DEFAULT_CONFIG)
    return model


# --- folds, evaluation conditions, calibration -------------------------------------------------


def folds(utts: list[Utt]) -> list[set[str]]:
    """Held-out speakers of each fold."""
    dsp = sorted({u.speaker for u in utts if u.corpus == "dsp"})
    rng = np.random.default_rng(SEED)
    rng.shuffle(dsp)
    out = []
    for f in range(N_FOLDS):
        held = set(dsp[f::N_FOLDS])
        held.add("S0150" if f < N_FOLDS // 2 else "S0252")
        out.append(held)
    return out


def fold_cache_key(utts: list[Utt]) -> str:
    h = hashlib.sha256()
    h.update(acoustic.PARAMS_KEY.encode())
    h.update(repr((TRAIN_VERSION, SEED, PASSES, VAR_FLOOR, N_FOLDS)).encode())
    for u in utts:
        h.update(u.key.encode())
    return h.hexdigest()[:16]


def fold_models(utts: list[Utt]) -> list[AcousticModel]:
    """One model per fold, trained without the fold's speakers (cached in /tmp)."""
    cache = Path("/tmp") / f"sayzhong_aligner_folds_{fold_cache_key(utts)}"
    cache.mkdir(exist_ok=True)
    models = []
    for f, held in enumerate(folds(utts)):
        path = cache / f"fold{f}.npz"
        if path.exists():
            models.append(AcousticModel.load(path))
            continue
        print(f"  fold {f}: training without {len(held)} speakers", flush=True)
        m = train([u for u in utts if u.speaker not in held])
        m.save(path)
        models.append(m)
    for m in models:
        m.config = dict(DEFAULT_CONFIG)
    return models


def trim(samples: np.ndarray) -> np.ndarray:
    """The recording between its first and last frame within 35 dB of its loud end (+30 ms)."""
    db = acoustic.frame_db(samples)
    loud = np.flatnonzero(db > np.percentile(db, 99) - 35.0)
    if loud.size == 0:
        return samples
    a = max(0, int(loud[0]) * acoustic.HOP - 480)
    b = min(samples.size, int(loud[-1]) * acoustic.HOP + acoustic.WIN + 480)
    return samples[a:b]


@dataclass
class Case:
    kind: str  # correct | wrong | partial | extra | noise | concat
    samples: np.ndarray
    units: Units
    labels: np.ndarray
    """Per syllable: 1 said, 0 not said."""
    meta: dict[str, object] = field(default_factory=dict)


def noise_bed(rng: np.random.Generator, n: int, level_db: float) -> np.ndarray:
    return np.asarray(coloured_noise(rng, n) * 10 ** (level_db / 20), dtype=np.float32)


def make_cases(held: list[Utt], rng: np.random.Generator, all_texts: list[Utt]) -> list[Case]:
    """Evaluation/calibration conditions built from held-out recordings only."""
    cases: list[Case] = []
    dsp = [u for u in held if u.corpus == "dsp"]
    ais = [u for u in held if u.corpus == "aishell"]

    def other_text(u: Utt, pool: list[Utt]) -> Utt:
        mine = set(u.text.split())
        for _ in range(200):
            o = pool[int(rng.integers(len(pool)))]
            if not mine & set(o.text.split()) and abs(len(o.units) - len(u.units)) <= max(
                1, len(u.units) // 4
            ):
                return o
        return o

    for u in dsp + ais:
        n = len(u.units)
        cases.append(Case("correct", u.samples, u.units, np.ones(n), {"corpus": u.corpus}))
        pool = [o for o in all_texts if o.corpus == u.corpus]
        o = other_text(u, pool)
        cases.append(Case("wrong", u.samples, o.units, np.zeros(len(o.units)), {"corpus": u.corpus}))
    # Partial takes: a dspspeech word against the text of itself + another word (the second
    # word never said); an aishell sentence cut after about half its syllables (cut_partial,
    # at a boundary found by the fold model) against the full text.
    for u in dsp[::2]:
        o = other_text(u, [w for w in all_texts if w.corpus == "dsp"])
        units = u.units + o.units
        labels = np.r_[np.ones(len(u.units)), np.zeros(len(o.units))]
        cases.append(Case("partial", u.samples, units, labels, {"corpus": "dsp"}))
    for u in ais:
        cases.append(Case("partial_cut", u.samples, u.units, np.ones(len(u.units)), {"corpus": "aishell"}))
    # Extra words: two recordings concatenated, text of one of them.
    for i, u in enumerate(dsp[::3]):
        o = dsp[(i * 7 + 5) % len(dsp)]
        gap = np.zeros(int(rng.uniform(0.1, 0.4) * acoustic.SAMPLE_RATE), np.float32)
        first = rng.random() < 0.5
        audio = np.concatenate(
            [trim(u.samples), gap, trim(o.samples)] if first else [trim(o.samples), gap, trim(u.samples)]
        )
        cases.append(Case("extra", audio, u.units, np.ones(len(u.units)), {"corpus": "dsp"}))
    # Noise only.
    for i in range(max(4, len(dsp) // 12)):
        n = int(rng.uniform(1.0, 3.0) * acoustic.SAMPLE_RATE)
        audio = noise_bed(rng, n, rng.uniform(-70.0, -35.0))
        units = dsp[i % len(dsp)].units
        cases.append(Case("noise", audio, units, np.zeros(len(units)), {}))
    return cases


def cut_partial(model: AcousticModel, case: Case, *, dither: bool = False) -> Case:
    """Cut an aishell sentence after the syllable nearest half, using the fold model's alignment."""
    raw = raw_align(model, case.samples, case.units, dither=dither)
    k = len(case.units) // 2
    end = raw.spans[k - 1][2]
    nxt = raw.spans[k][0]
    cut = int(((end + nxt) / 2) * acoustic.HOP + acoustic.WIN // 2)
    labels = np.r_[np.ones(k), np.zeros(len(case.units) - k)]
    return Case("partial", case.samples[:cut], case.units, labels, {"corpus": "aishell"})


def evaluate_cases(
    model: AcousticModel, cases: list[Case], *, dither: bool = False
) -> list[tuple[Case, RawAlignment]]:
    """Raw alignments of the cases. Calibration runs undithered, as the committed model was fitted;
    the benchmark dithers, as the app does (`acoustic.dithered`)."""
    out = []
    for c in cases:
        if c.kind == "partial_cut":
            c = cut_partial(model, c, dither=dither)
        out.append((c, raw_align(model, c.samples, c.units, dither=dither)))
    return out


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 1e-2, iters: int = 200
) -> tuple[np.ndarray, float]:
    """Plain Newton logistic regression with a small ridge, balanced classes."""
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mu) / sd
    a = np.c_[z, np.ones(len(z))]
    wts = np.where(y > 0.5, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9))
    w = np.zeros(a.shape[1])
    for _ in range(iters):
        p = 1 / (1 + np.exp(-a @ w))
        g = a.T @ (wts * (p - y)) + l2 * np.r_[w[:-1], 0]
        h = (a * (wts * p * (1 - p))[:, None]).T @ a + l2 * np.eye(a.shape[1])
        step = np.linalg.solve(h, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    coef = w[:-1] / sd
    bias = float(w[-1] - np.sum(w[:-1] * mu / sd))
    return coef, bias


def calibration_rows(results: list[tuple[Case, RawAlignment]]) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for c, r in results:
        if not r.has_speech or c.kind == "noise":
            continue
        xs.append(r.features)
        ys.append(c.labels)
    return np.concatenate(xs), np.concatenate(ys)


def decision_errors(results: list[tuple[Case, RawAlignment]], cfg: dict[str, object]) -> float:
    """Balanced syllable error (said vs not said) plus the share of wrong-text takes not rejected."""
    pos_miss, pos_n, neg_hit, neg_n, wrong_bad, wrong_n = 0.0, 0, 0.0, 0, 0, 0
    for c, r in results:
        if not r.has_speech:
            continue
        p, _, _ = structured_posteriors(r.features @ np.asarray(cfg["presence_w"]) + cfg["presence_b"], cfg)
        said = p >= 0.5
        pos_miss += float(np.sum(~said & (c.labels > 0.5)))
        pos_n += int(np.sum(c.labels > 0.5))
        neg_hit += float(np.sum(said & (c.labels < 0.5)))
        neg_n += int(np.sum(c.labels < 0.5))
        if c.kind == "wrong":
            wrong_n += 1
            wrong_bad += int(said.any())
    # Missing a correct syllable costs 3×: the targets are ≥ 97 % said vs ≤ 10 % false "said".
    return 3 * pos_miss / max(pos_n, 1) + neg_hit / max(neg_n, 1) + 0.5 * wrong_bad / max(wrong_n, 1)


def calibrate(results: list[tuple[Case, RawAlignment]]) -> dict[str, object]:
    """Syllable logistic regression, then the structured prior by a small grid search."""
    x, y = calibration_rows(results)
    w, b = fit_logistic(x, y)
    cfg: dict[str, object] = {**DEFAULT_CONFIG, "presence_w": [float(v) for v in w], "presence_b": b}
    best = (np.inf, cfg)
    for tau in (0.5, 0.75, 1.0, 1.5, 2.0):
        for none in (-4.0, -2.0, 0.0, 2.0, 4.0):
            for part in (-8.0, -6.0, -4.0, -2.0, -1.0, 0.0):
                trial = {**cfg, "tau": tau, "prior_none": none, "prior_part": part, "prior_skip": part - 2.0}
                err = decision_errors(results, trial)
                if err < best[0]:
                    best = (err, trial)
    keys = ("presence_w", "presence_b", "tau", "prior_none", "prior_part", "prior_skip")
    return {k: best[1][k] for k in keys}


def held_out_results(
    utts: list[Utt], seed: int = SEED, *, dither: bool = False
) -> list[list[tuple[Case, RawAlignment]]]:
    """Per fold: the fold model's raw alignments of the held-out evaluation cases."""
    models = fold_models(utts)
    out = []
    for f, held in enumerate(folds(utts)):
        rng = np.random.default_rng(seed + f)
        cases = make_cases([u for u in utts if u.speaker in held], rng, utts)
        out.append(evaluate_cases(models[f], cases, dither=dither))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args()
    t0 = time.time()
    print(f"loading {args.data} …", flush=True)
    utts = load_corpus(args.data)
    compute_features(utts)
    counts = {c: sum(u.corpus == c for u in utts) for c in ("dav", "dsp", "aishell")}
    frames = sum(u.x.shape[0] for u in utts)
    print(f"  {len(utts)} recordings {counts}, {frames / 100 / 60:.1f} min, {time.time() - t0:.0f} s")
    print("fold models (speaker-disjoint) for calibration …", flush=True)
    results = held_out_results(utts)
    cal = calibrate([r for fold in results for r in fold])
    print(f"  presence calibration: {cal}  ({time.time() - t0:.0f} s)")
    print("final model on all recordings …", flush=True)
    model = train(utts)
    model.config = {**DEFAULT_CONFIG, **cal}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB) in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
