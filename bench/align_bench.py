"""Forced-aligner benchmark on held-out speakers: boundaries, "said" decisions, statuses, speed.

Speaker-disjoint: the fold models of scripts/train_aligner.py (4 folds over the dspspeech
speakers; aishell S0150 held out in folds 0-1, S0252 in folds 2-3; davinfifield always in
training) align only recordings of their held-out speakers. Calibration is nested: the
presence calibration used on fold k is fitted on the other three folds' held-out results.

Reports:
1. boundary error at word junctions of synthetic phrases (3-4 held-out dspspeech words cut to
   their voiced region + unvoiced onset, joined with no gap or a random 0-400 ms gap, low
   background noise, 0.3-1 s of leading/trailing noise);
2. "said" rate of correctly spoken syllables (aishell sentences, dspspeech words);
3. "said" rate and status against another text of similar length;
4. partial takes (first word of a two-word text; aishell sentence cut after half its syllables);
5. noise-only takes → no_speech; two recordings joined, text of one → extra_speech;
6. speed of features + alignment per ~3 s, ~8-syllable utterance on one core (final model).

Run: .venv/bin/python bench/align_bench.py [--write]   (--write updates bench/RESULTS-align.md)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

import train_aligner as T  # noqa: E402

from sayzhong.pronunciation import acoustic  # noqa: E402
from sayzhong.pronunciation.align import speech_region  # noqa: E402
from sayzhong.pronunciation.aligner import (  # noqa: E402
    DEFAULT_CONFIG,
    AcousticModel,
    Alignment,
    decide,
    load_aligner,
    raw_align,
)
from sayzhong.pronunciation.pitch import track_pitch  # noqa: E402

SR = acoustic.SAMPLE_RATE


def speech_bounds(samples: np.ndarray) -> tuple[int, int]:
    """Sample range of the speech, independent of the aligner: the voiced region (Praat F0)
    extended over a loud unvoiced onset, as the old energy/voicing segmentation finds it."""
    track = track_pitch(samples, SR)
    region = speech_region(track)
    if region is None:
        return 0, samples.size
    a, b = region
    hop = float(track.times[1] - track.times[0])
    start = max(0, int((float(track.times[a]) - hop / 2) * SR))
    end = min(samples.size, int((float(track.times[b - 1]) + hop / 2) * SR))
    return start, end


def phrase_case(
    words: list[T.Utt], rng: np.random.Generator, gap: bool
) -> tuple[np.ndarray, T.Units, list[tuple[int, float, float]]]:
    """Joined words with known junctions: (audio, units, [(last syllable index, end s, next start s)])."""
    parts: list[np.ndarray] = []
    lead = rng.uniform(0.3, 1.0)
    parts.append(np.zeros(int(lead * SR), np.float32))
    pos = parts[0].size
    units: T.Units = []
    junctions = []
    for k, w in enumerate(words):
        a, b = speech_bounds(w.samples)
        piece = w.samples[a:b]
        if k:
            g = np.zeros(int(rng.uniform(0.0, 0.4) * SR) if gap else 0, np.float32)
            parts.append(g)
            junctions.append((len(units) - 1, pos / SR, (pos + g.size) / SR))
            pos += g.size
        parts.append(piece)
        pos += piece.size
        units += w.units
    parts.append(np.zeros(int(rng.uniform(0.3, 1.0) * SR), np.float32))
    audio = np.concatenate(parts)
    peak = float(np.percentile(np.abs(audio), 99.9))
    audio = audio + T.noise_bed(rng, audio.size, 20 * np.log10(peak + 1e-9) - rng.uniform(35.0, 45.0))
    return audio.astype(np.float32), units, junctions


def boundary_errors(
    model: AcousticModel, held: list[T.Utt], rng: np.random.Generator, gap: bool, n: int
) -> tuple[list[float], list[np.ndarray]]:
    dsp = [u for u in held if u.corpus == "dsp"]
    errs: list[float] = []
    audios = []
    for _ in range(n):
        words = [dsp[int(i)] for i in rng.choice(len(dsp), size=int(rng.integers(3, 5)), replace=False)]
        audio, units, junctions = phrase_case(words, rng, gap)
        audios.append(audio)
        al = decide(model, raw_align(model, audio, units))
        for last, end_s, start_s in junctions:
            errs.append(abs(al.syllables[last].end_s - end_s))
            errs.append(abs(al.syllables[last + 1].start_s - start_s))
    return errs, audios


def fold_config(results: list[list[tuple[T.Case, T.RawAlignment]]], f: int) -> dict[str, object]:
    pooled = [r for g, fold in enumerate(results) if g != f for r in fold]
    return {**DEFAULT_CONFIG, **T.calibrate(pooled)}


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="write bench/RESULTS-align.md")
    ap.add_argument("--phrases", type=int, default=40, help="synthetic phrases per fold and gap kind")
    args = ap.parse_args()
    t0 = time.time()
    utts = T.load_corpus()
    T.compute_features(utts)
    models = T.fold_models(utts)
    results = T.held_out_results(utts, dither=True)  # as the app aligns takes
    lines: list[str] = []

    def out(s: str = "") -> None:
        print(s, flush=True)
        lines.append(s)

    said: dict[tuple[str, str, int], list[bool]] = defaultdict(list)
    status: dict[tuple[str, str], list[str]] = defaultdict(list)
    gap_errs: dict[bool, list[float]] = {True: [], False: []}
    phrase_audio: list[tuple[np.ndarray, T.Units]] = []
    for f, held in enumerate(T.folds(utts)):
        model = models[f]
        model.config = fold_config(results, f)
        for c, r in results[f]:
            al = decide(model, r)
            corpus = str(c.meta.get("corpus", "-"))
            for lab, s in zip(c.labels, (s.said for s in al.syllables), strict=True):
                said[(c.kind, corpus, int(lab))].append(s)
            status[(c.kind, corpus)].append(al.status)
        rng = np.random.default_rng(T.SEED + 100 + f)
        held_utts = [u for u in utts if u.speaker in held]
        for gap in (False, True):
            errs, audios = boundary_errors(model, held_utts, rng, gap, args.phrases)
            gap_errs[gap] += errs
            if f == 0 and gap:
                phrase_audio += list(zip(audios, [None] * len(audios), strict=True))  # type: ignore[arg-type]

    out(f"# Forced aligner benchmark (held-out speakers, {len(models)} folds)")
    out()
    out(f"Run: `.venv/bin/python bench/align_bench.py --write` ({time.time() - t0:.0f} s).")
    out()
    out("## 1. Junction boundaries of synthetic phrases (3-4 held-out dspspeech words)")
    out()
    out("| joins | boundaries | median error | p90 error | share within 50 ms |")
    out("|---|---|---|---|---|")
    for gap in (False, True):
        e = np.asarray(gap_errs[gap]) * 1000
        label = "random 0-400 ms gap" if gap else "no gap"
        out(
            f"| {label} | {e.size} | {np.median(e):.0f} ms | {np.percentile(e, 90):.0f} ms | "
            f"{pct(float(np.mean(e <= 50)))} |"
        )
    out()

    def rate(kind: str, corpus: str, lab: int) -> str:
        v = said.get((kind, corpus, lab), [])
        return f"{pct(float(np.mean(v)))} of {len(v)}" if v else "-"

    def share(kind: str, corpus: str, st: str) -> str:
        v = status.get((kind, corpus), [])
        return f"{pct(float(np.mean([s == st for s in v])))} of {len(v)}" if v else "-"

    out("## 2. Correctly spoken syllables judged said (target ≥ 97 %)")
    out()
    out("| corpus | said | status ok |")
    out("|---|---|---|")
    for corpus in ("dsp", "aishell"):
        out(f"| {corpus} | {rate('correct', corpus, 1)} | {share('correct', corpus, 'ok')} |")
    out()
    out("## 3. Recording aligned against another text (target ≤ 10 % said, status different_text)")
    out()
    out("| corpus | said | status different_text |")
    out("|---|---|---|")
    for corpus in ("dsp", "aishell"):
        out(f"| {corpus} | {rate('wrong', corpus, 0)} | {share('wrong', corpus, 'different_text')} |")
    out()
    out("## 4. Partial takes (first half of the text spoken)")
    out()
    out("| corpus | missing syllables detected | spoken syllables said | status partial |")
    out("|---|---|---|---|")
    for corpus in ("dsp", "aishell"):
        missing = said.get(("partial", corpus, 0), [])
        det = f"{pct(1 - float(np.mean(missing)))} of {len(missing)}" if missing else "-"
        out(f"| {corpus} | {det} | {rate('partial', corpus, 1)} | {share('partial', corpus, 'partial')} |")
    out()
    out("## 5. Noise only and extra words")
    out()
    out(f"- noise-only takes → no_speech: {share('noise', '-', 'no_speech')}")
    out(
        f"- two words joined, text of one → extra_speech: {share('extra', 'dsp', 'extra_speech')} "
        f"(ok: {share('extra', 'dsp', 'ok')}); its syllables said: {rate('extra', 'dsp', 1)}"
    )
    out()
    final = load_aligner()
    times = []
    words = [u for u in utts if u.corpus == "dsp"]
    rng = np.random.default_rng(T.SEED)
    for _ in range(60):
        pick = [words[int(i)] for i in rng.choice(len(words), size=4, replace=False)]
        audio, units, _ = phrase_case(pick, rng, gap=True)
        audio = audio[: 3 * SR] if audio.size > 3 * SR else np.pad(audio, (0, 3 * SR - audio.size))
        t = time.perf_counter()
        al: Alignment = decide(final, raw_align(final, audio, units))
        times.append((time.perf_counter() - t) * 1000)
        assert len(al.syllables) == len(units)
    out("## 6. Speed (features + forced alignment + free loop + decisions, one core)")
    out()
    out(
        f"3 s utterances, 8 syllables: median {np.median(times):.1f} ms, "
        f"p95 {np.percentile(times, 95):.1f} ms (target median ≤ 15 ms)"
    )
    if args.write:
        (REPO / "bench" / "RESULTS-align.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
