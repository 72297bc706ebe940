"""Train the tone networks on every shared speaker and write sayzhong/pronunciation/model/tone_model.json.

Data (../shared/data, see each README): isolated syllables of one female speaker
(syllables-davinfifield), two-syllable words of 24 speakers on ordinary microphones
(dspspeech20-train) and read sentences of 2 speakers (aishell1-sample).

Pipeline, identical to run time: decode → Praat F0 → locate the expected syllables
(``analysis.locate_syllables``: the forced aligner) → each syllable's final → phrase features
(``features.phrase_features``) → one network ensemble per normalisation kind:

- ``level``: relative to a speaker profile built from 12 other recordings of that speaker;
- ``utterance``: relative to the utterance's own median and range;
- ``shape``: levels relative to the syllable itself (one syllable, no profile).

Augmentation (``corpora.augment``): every recording is also used in degraded copies —
background noise, reverberation, a phone's narrow band, WebM/Opus at 12-24 kbit/s, clipping,
pitch shifted up or down by 3-7 semitones (other voices), faster or slower — each re-tracked
and re-aligned, plus contour-level jitter of the reference pitch and range.

Calibration: networks trained with whole speakers held out (5 folds) predict the held-out
speakers' syllables; the verdict thresholds are set on those predictions so that correctly
spoken syllables are judged wrong at most 2 % of the time (3 % in sentences), and a wrong tone in
a word is judged "correct" at most 6 % of the time (see ``calibrate``).

Run: .venv/bin/python scripts/train_tone_model.py   (~10 min on 2 cores; tracks are cached in /tmp,
keyed by a hash of the pipeline code and of the recordings).

Reproduction: ``--check`` retrains into a temporary file and compares it with the committed model —
every network's weights within a relative tolerance, the thresholds, and the predictions on the
benchmark recordings (the original takes) — and exits 1 outside the tolerances
(``classifier.compare_models``). Same machine and library build: the same weights. Other CPUs: BLAS
sums in a different order, so weights differ in the last bits and drift a little over training;
the check does not expect identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matrices: threads only add overhead
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Cached records pickle their class by module name; run as a script or imported by the benchmark,
# this module is "train_tone_model" either way.
sys.modules.setdefault("train_tone_model", sys.modules[__name__])

from sayzhong.pronunciation import corpora  # noqa: E402
from sayzhong.pronunciation.analysis import (  # noqa: E402
    MIN_SYLLABLES_FOR_UTTERANCE_LEVEL,
    locate_syllables,
    span_contour,
    utterance_normalisation,
)
from sayzhong.pronunciation.audio import DecodedAudio  # noqa: E402
from sayzhong.pronunciation.classifier import (  # noqa: E402
    KINDS,
    MODEL_PATH,
    Network,
    Thresholds,
    ToneModel,
    length_class,
    train_network,
)
from sayzhong.pronunciation.features import NOMINAL_RANGE_ST, SyllablePitch, phrase_features  # noqa: E402
from sayzhong.pronunciation.pitch import track_pitch  # noqa: E402
from sayzhong.pronunciation.text import expected_syllables  # noqa: E402

N_PROFILE_RECORDINGS = 12
TARGET_FALSE_WRONG = 0.02
TARGET_FALSE_WRONG_LONG = 0.03
MAX_WRONG_ACCEPTED = 0.06
UNCERTAIN_BAND = 0.02
TARGET_ACCEPT_LONG = 0.93
N_FOLDS = 5
ENSEMBLE = 3
CACHE_DIR = Path("/tmp/sayzhong-tone-records")
PIPELINE_FILES = [
    "sayzhong/pronunciation/pitch.py",
    "sayzhong/pronunciation/align.py",
    "sayzhong/pronunciation/corpora.py",
    "sayzhong/pronunciation/aligner.py",
    "sayzhong/pronunciation/acoustic.py",
    "sayzhong/pronunciation/phones.py",
    "sayzhong/pronunciation/model/aligner_model.npz",
    "sayzhong/pronunciation/text.py",
]


@dataclass(frozen=True)
class Record:
    """One recording (or a degraded copy) after the run-time pipeline, before features."""

    key: str
    corpus: str
    speaker: str
    sex: str
    text: str
    version: str
    """``orig`` or the augmentation's name."""
    shift_st: float
    """Pitch shift applied by augmentation (moves this copy's speaker profile too)."""
    tones: tuple[int, ...]
    """Expected surface tones (5 = neutral)."""
    alternatives: tuple[tuple[int, ...], ...]
    pitches: tuple[SyllablePitch | None, ...]
    """Per expected syllable: its final's F0, or None when it was not said/located."""
    voiced_st: np.ndarray
    """Every voiced F0 frame of the recording (for speaker profiles)."""
    status: str


Record.__module__ = "train_tone_model"


def versions_for(utt: corpora.Utterance) -> list[str]:
    rng = np.random.default_rng(int(hashlib.sha256(utt.key.encode()).hexdigest()[:8], 16))
    n = 4 if utt.corpus == "aishell" else 2  # connected speech is the scarcest
    picks = rng.choice(len(corpora.AUGMENTATIONS), size=n, replace=False)
    return ["orig", *[corpora.AUGMENTATIONS[int(i)] for i in picks]]


USE_ALIGNER = os.environ.get("SAYZHONG_TRAIN_ALIGNER", "1") != "0"


def process(utt: corpora.Utterance, versions: Iterable[str]) -> list[Record]:
    expected = expected_syllables(utt.text)
    base = corpora.load_samples(utt)
    out = []
    for version in versions:
        rng = np.random.default_rng(int(hashlib.sha256((utt.key + version).encode()).hexdigest()[:8], 16))
        shift = 0.0
        if version == "orig":
            samples = base
        elif version in ("pitch_up", "pitch_down"):
            shift = float(rng.uniform(3.0, 7.0)) * (1 if version == "pitch_up" else -1)
            samples = corpora.change_pitch(base, shift)
        else:
            samples = corpora.augment(base, version, rng)
        audio = DecodedAudio(samples, corpora.SAMPLE_RATE, samples.size / corpora.SAMPLE_RATE, "wav")
        track = track_pitch(samples, corpora.SAMPLE_RATE)
        location = locate_syllables(audio, track, expected, use_aligner=USE_ALIGNER)
        pitches: list[SyllablePitch | None] = []
        for i in range(len(expected)):
            if not location.spans or not location.spans[i].said:
                pitches.append(None)
            else:
                pitches.append(span_contour(track, location.spans[i]).pitch)
        out.append(
            Record(
                utt.key,
                utt.corpus,
                utt.speaker,
                utt.sex,
                utt.text,
                version,
                shift,
                tuple(s.surface_tone for s in expected),
                tuple(s.alternative_tones for s in expected),
                tuple(pitches),
                track.f0_st[track.voiced].astype(np.float32),
                location.status,
            )
        )
    return out


def _process_job(args: tuple[corpora.Utterance, list[str]]) -> list[Record]:
    return process(*args)


def pipeline_hash() -> str:
    """Everything that decides a record: the files above, and the analysis steps used here
    (not the whole of analysis.py, whose judging code does not change a record)."""
    import inspect

    from sayzhong.pronunciation import analysis

    h = hashlib.sha256()
    for fn in (analysis.locate_syllables, analysis.span_contour, analysis.energy_location):
        h.update(inspect.getsource(fn).encode())
    for rel in PIPELINE_FILES:
        p = REPO / rel
        h.update(rel.encode())
        h.update(p.read_bytes() if p.exists() else b"-")
    return h.hexdigest()[:16]


def data_hash(utts: list[corpora.Utterance]) -> str:
    """The recordings and their labels: every file's bytes with its key, text and speaker (~82 MB,
    well under a second), so a changed or re-labelled recording never reuses stale features."""
    h = hashlib.sha256()
    for utt in sorted(utts, key=lambda u: u.key):
        h.update(repr((utt.key, utt.text, utt.speaker, utt.sex, utt.flags)).encode())
        for path in utt.parts or (utt.path,):
            h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:16]


def load_records(*, augment: bool = True, workers: int = 2, limit: int | None = None) -> list[Record]:
    """Every shared recording through the run-time pipeline (cached by pipeline and data hash)."""
    utts = corpora.all_corpora()
    if limit:
        utts = utts[:: max(1, len(utts) // limit)]
    aligner = "hmm" if USE_ALIGNER else "energy"
    tag = f"{pipeline_hash()}-{data_hash(utts)}-{aligner}-{'aug' if augment else 'orig'}-{len(utts)}"
    cache = CACHE_DIR / f"records-{tag}.pkl"
    if cache.exists():
        with cache.open("rb") as f:
            records: list[Record] = pickle.load(f)  # noqa: S301 - our own cache file in /tmp
        return records
    jobs = [(u, versions_for(u) if augment else ["orig"]) for u in utts]
    t0 = time.time()
    with Pool(workers) as pool:
        chunks = pool.map(_process_job, jobs, chunksize=8)
    records = [r for chunk in chunks for r in chunk]
    print(f"pipeline: {len(records)} recordings/copies in {time.time() - t0:.0f} s", flush=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with cache.open("wb") as f:
        pickle.dump(records, f)
    return records


# --- features --------------------------------------------------------------------------------


def speaker_profiles(records: list[Record], seed: int = 0) -> dict[str, tuple[float, float]]:
    """(median, 5-95 % span) per speaker from N_PROFILE_RECORDINGS of its original recordings,
    as `calibrate` builds a profile from a learner's mic-check takes."""
    rng = np.random.default_rng(seed)
    by_spk: dict[str, list[np.ndarray]] = {}
    for r in records:
        if r.version == "orig" and r.voiced_st.size:
            by_spk.setdefault(r.speaker, []).append(r.voiced_st)
    out = {}
    for spk, vals in by_spk.items():
        pick = [vals[int(i)] for i in rng.permutation(len(vals))[:N_PROFILE_RECORDINGS]]
        allv = np.concatenate(pick).astype(np.float64)
        span = float(np.percentile(allv, 95) - np.percentile(allv, 5))
        out[spk] = (float(np.median(allv)), min(max(span, 3.0), 30.0))
    return out


@dataclass
class Dataset:
    x: np.ndarray
    y: np.ndarray
    """True tone index 0..3."""
    accepted: list[tuple[int, ...]]
    speaker: np.ndarray
    corpus: np.ndarray
    sex: np.ndarray
    version: np.ndarray
    text: np.ndarray
    position: np.ndarray
    """Syllable index in its recording (with ``text``: tone pairs)."""
    tones: list[tuple[int, ...]]
    x_shape: np.ndarray
    """The same syllables' features without a level reference (for mixing with the shape network)."""


def normalisation_for(
    r: Record, kind: str, profiles: dict[str, tuple[float, float]], rng: np.random.Generator | None
) -> tuple[float, float] | None:
    if kind == "level":
        ref, span = profiles[r.speaker]
        ref += r.shift_st
        if rng is not None:  # profile drift: another day, another microphone
            ref += float(rng.normal(0.0, 0.8))
            span *= float(rng.uniform(0.8, 1.25))
        return ref, span
    if kind == "utterance":
        usable = [
            p.values_st
            for p, t in zip(r.pitches, r.tones, strict=True)
            if p is not None and t != 5 and p.values_st.size >= 4
        ]
        if len(usable) < MIN_SYLLABLES_FOR_UTTERANCE_LEVEL:
            return None
        norm = utterance_normalisation(usable)
        return norm.ref_st, norm.range_st
    return 0.0, NOMINAL_RANGE_ST


def build_dataset(
    records: list[Record],
    kind: str,
    profiles: dict[str, tuple[float, float]],
    *,
    jitter_copies: int = 0,
    seed: int = 0,
    context: bool = True,
) -> Dataset:
    rng = np.random.default_rng(seed)
    cols: dict[str, list[object]] = {k: [] for k in Dataset.__dataclass_fields__}
    for r in records:
        for copy in range(jitter_copies + 1):
            norm = normalisation_for(r, kind, profiles, rng if copy else None)
            if norm is None:
                break
            level = kind != "shape"
            if copy > 0 and len(r.tones) > 1 and kind != "utterance":
                # Syllables of words and sentences also seen as if spoken alone (single-syllable
                # drills), so no fold lacks isolated examples.
                feats = [
                    phrase_features([p], [t], ref_st=norm[0], range_st=norm[1], level=level)[0]
                    for p, t in zip(r.pitches, r.tones, strict=True)
                ]
                shapes = [
                    phrase_features([p], [t], ref_st=0.0, range_st=NOMINAL_RANGE_ST, level=False)[0]
                    for p, t in zip(r.pitches, r.tones, strict=True)
                ]
            else:
                feats = phrase_features(r.pitches, r.tones, ref_st=norm[0], range_st=norm[1], level=level)
                shapes = phrase_features(
                    r.pitches, r.tones, ref_st=0.0, range_st=NOMINAL_RANGE_ST, level=False
                )
            for i, f in enumerate(feats):
                tone = r.tones[i]
                if f is None or tone == 5:
                    continue
                fs = shapes[i]
                assert fs is not None  # same voicing as f
                if not context:
                    f, fs = f.copy(), fs.copy()
                    f[18:] = 0.0
                    fs[18:] = 0.0
                cols["x"].append(f)
                cols["x_shape"].append(fs)
                cols["y"].append(tone - 1)
                cols["accepted"].append((tone, *r.alternatives[i]))
                cols["speaker"].append(r.speaker)
                cols["corpus"].append(r.corpus)
                cols["sex"].append(r.sex)
                cols["version"].append(r.version if copy == 0 else f"{r.version}+jitter")
                cols["text"].append(r.text)
                cols["position"].append(i)
                cols["tones"].append(r.tones)
    return Dataset(
        np.array(cols["x"]),
        np.array(cols["y"], dtype=np.int64),
        cols["accepted"],  # type: ignore[arg-type]
        np.array(cols["speaker"]),
        np.array(cols["corpus"]),
        np.array(cols["sex"]),
        np.array(cols["version"]),
        np.array(cols["text"]),
        np.array(cols["position"]),
        cols["tones"],  # type: ignore[arg-type]
        np.array(cols["x_shape"]),
    )


def subset(d: Dataset, mask: np.ndarray) -> Dataset:
    idx = np.flatnonzero(mask)
    return Dataset(
        d.x[idx],
        d.y[idx],
        [d.accepted[i] for i in idx],
        d.speaker[idx],
        d.corpus[idx],
        d.sex[idx],
        d.version[idx],
        d.text[idx],
        d.position[idx],
        [d.tones[i] for i in idx],
        d.x_shape[idx],
    )


def balance_weights(d: Dataset) -> np.ndarray:
    """Each corpus counts about equally (24 speakers of 12 words would drown the sentences),
    and within a corpus each tone does."""
    w = np.ones(d.y.size)
    for c in np.unique(d.corpus):
        cm = d.corpus == c
        for t in range(4):
            m = cm & (d.y == t)
            if m.any():
                w[m] = 1.0 / (m.sum() * 4)
        w[cm] /= w[cm].sum()
    return w


def train_ensemble(d: Dataset, *, members: int, seed: int) -> list[Network]:
    w = balance_weights(d)
    return [train_network(d.x, d.y, weights=w, seed=seed + k) for k in range(members)]


def predict(nets: list[Network], x: np.ndarray) -> np.ndarray:
    return np.asarray(np.mean([n.predict_proba(x) for n in nets], axis=0))


def p_accepted(probs: np.ndarray, accepted: list[tuple[int, ...]]) -> np.ndarray:
    return np.array([min(1.0, sum(p[t - 1] for t in acc)) for p, acc in zip(probs, accepted, strict=True)])


def wrong_expectation_p(probs: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(expected) for every syllable scored against each of the three tones it was NOT said with."""
    rows = []
    for p, t in zip(probs, y, strict=True):
        rows.extend(p[k] for k in range(4) if k != t)
    return np.array(rows)


def calibrate(p_right: np.ndarray, p_wrong: np.ndarray, length: str = "short") -> Thresholds:
    """Verdict thresholds from held-out predictions.

    ``wrong``: at most TARGET_FALSE_WRONG of correctly spoken syllables fall below it (a learner
    must be able to trust a "wrong"). ``correct``: for words and short phrases, at most
    MAX_WRONG_ACCEPTED of wrong tones reach it. In connected speech, where tones blur into each
    other, the engine cannot be that strict without rejecting much of what natives say: there
    ``correct`` accepts TARGET_ACCEPT_LONG of correctly spoken syllables and only clear
    contradictions are flagged. Between the two: "uncertain".
    """
    if length == "long":
        wrong = float(np.quantile(p_right, TARGET_FALSE_WRONG_LONG))
        return Thresholds(
            wrong=wrong, correct=max(wrong, float(np.quantile(p_right, 1.0 - TARGET_ACCEPT_LONG)))
        )
    wrong = float(np.quantile(p_right, TARGET_FALSE_WRONG))
    guard = float(np.quantile(p_wrong, 1.0 - MAX_WRONG_ACCEPTED))
    # Keep a band of doubt above "wrong": the least convincing correct syllables are "uncertain".
    doubt = float(np.quantile(p_right, TARGET_FALSE_WRONG + UNCERTAIN_BAND))
    return Thresholds(wrong=wrong, correct=max(wrong, guard, doubt))


def cross_validate(
    records: list[Record],
    kind: str,
    *,
    folds: int = N_FOLDS,
    members: int = 1,
    context: bool = True,
    train_versions: set[str] | None = None,
    hold_words: bool = False,
) -> Dataset:
    """Held-out P(tone) for every original recording, whole speakers held out per fold
    (``hold_words``: the held-out fold's words are also removed from training)."""
    utts = corpora.all_corpora()
    profiles = speaker_profiles(records)
    test_all = build_dataset([r for r in records if r.version == "orig"], kind, profiles, context=context)
    probs = np.zeros((test_all.y.size, 4))
    for k, held in corpora.speaker_folds(utts, folds):
        train_recs = [
            r
            for r in records
            if r.speaker not in held and (train_versions is None or r.version in train_versions)
        ]
        test_mask = np.isin(test_all.speaker, list(held))
        if hold_words:
            words = {t for t, s in zip(test_all.text, test_all.speaker, strict=True) if s in held}
            train_recs = [r for r in train_recs if r.corpus != "dspspeech" or r.text not in words]
        train = build_dataset(train_recs, kind, profiles, jitter_copies=1, seed=k, context=context)
        nets = train_ensemble(train, members=members, seed=k)
        if not test_mask.any():
            continue
        probs[test_mask] = predict(nets, test_all.x[test_mask])
        if kind != "shape":  # as at run time: mixed with the shape network (ToneModel.mix)
            shape_train = build_dataset(
                train_recs, "shape", profiles, jitter_copies=1, seed=k, context=context
            )
            shape_nets = train_ensemble(shape_train, members=members, seed=k)
            probs[test_mask] = ToneModel.mix(
                probs[test_mask], predict(shape_nets, test_all.x_shape[test_mask])
            )
    test_all.x = probs  # held-out probabilities replace the features
    return test_all


def benchmark_features(records: list[Record]) -> dict[str, np.ndarray]:
    """Each kind's features of the original (not augmented) recordings: the benchmark set the
    reproduction check predicts on."""
    profiles = speaker_profiles(records)
    originals = [r for r in records if r.version == "orig"]
    return {kind: build_dataset(originals, kind, profiles).x for kind in KINDS}


def check_reproduction(candidate: Path, committed: Path = MODEL_PATH) -> int:
    """Compare a retrained model with the committed one (weights within a tolerance, predictions on
    the benchmark recordings); print the figures, exit 1 when outside the tolerances."""
    from sayzhong.pronunciation.classifier import compare_models

    a = ToneModel.from_dict(json.loads(committed.read_text(encoding="utf-8")))
    b = ToneModel.from_dict(json.loads(candidate.read_text(encoding="utf-8")))
    result = compare_models(a, b, benchmark_features(load_records()))
    print(
        f"weights: max relative difference {result.max_weight_rdiff:.4f}; thresholds: max difference "
        f"{result.max_threshold_diff:.4f}; benchmark ({result.n_benchmark} syllables): top-1 agreement "
        f"{result.top1_agreement:.2%}, mean |dP| {result.mean_probability_diff:.4f}"
    )
    if result.reproduced:
        print("REPRODUCED within tolerance")
        return 0
    print("NOT REPRODUCED: " + "; ".join(result.problems))
    return 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--check",
        action="store_true",
        help="retrain into a temporary file and compare it with --out (the committed model) within tolerance",
    )
    args = parser.parse_args()
    if not args.check:
        return train(args.out, args.workers)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / "tone_model.json"
        return train(candidate, args.workers) or check_reproduction(candidate, args.out)


def train(out: Path, workers: int) -> int:
    """Train on every shared recording and write the model to ``out``."""
    t0 = time.time()
    records = load_records(workers=workers)
    print(f"{len(records)} recordings and copies ({time.time() - t0:.0f} s)", flush=True)
    profiles = speaker_profiles(records)
    thresholds: dict[str, Thresholds] = {}
    heldout: dict[str, object] = {}
    for kind in KINDS:
        cv = cross_validate(records, kind)
        for cls in ("short", "long"):
            # Calibrated on natural speech only: the joined-syllable phrases help training but are
            # no one's real way of speaking a phrase.
            m = np.array([length_class(len(t)) == cls for t in cv.tones]) & (cv.corpus != "syllable-phrases")
            if not m.any():
                continue
            part = subset(cv, m)
            pa = p_accepted(part.x, part.accepted)
            pw = wrong_expectation_p(part.x, part.y)
            th = thresholds[f"{kind}/{cls}"] = calibrate(pa, pw, cls)
            heldout[f"{kind}/{cls}"] = {
                "speaker_disjoint_accuracy": round(float((part.x.argmax(axis=1) == part.y).mean()), 4),
                "correct_judged_wrong": round(float((pa < th.wrong).mean()), 4),
                "correct_accepted": round(float((pa >= th.correct).mean()), 4),
                "wrong_tone_accepted": round(float((pw >= th.correct).mean()), 4),
                "n": int(m.sum()),
            }
            print(f"{kind}/{cls}: held-out {heldout[f'{kind}/{cls}']} thresholds {th.to_dict()}", flush=True)

    nets = {}
    for kind in KINDS:
        data = build_dataset(records, kind, profiles, jitter_copies=1, seed=99)
        nets[kind] = train_ensemble(data, members=ENSEMBLE, seed=99)
    model = ToneModel(
        nets,
        {
            "data": "syllables-davinfifield, dspspeech20-train, aishell1-sample (27 speakers)",
            "n_recordings_and_copies": len(records),
            "augmentation": list(corpora.AUGMENTATIONS),
            "ensemble": ENSEMBLE,
            "heldout_by_speaker_folds": N_FOLDS,
            "heldout": heldout,
        },
        thresholds,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(model.to_dict(), indent=None) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB) in {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
