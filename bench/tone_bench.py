"""Tone judgement on voices the model has never heard: speaker-disjoint benchmarks.

Every figure comes from networks trained with the evaluated speakers held out (5 folds of whole
speakers, ``corpora.speaker_folds``), through the run-time pipeline (decode → Praat F0 → forced
alignment → phrase features → networks). Verdict thresholds for a fold are calibrated on the
*other* folds' held-out predictions, never on the evaluated speakers.

Sections:
1. dspspeech20-train (24 speakers, two-syllable words): with a profile (12 recordings of the
   speaker) and without; per tone, per tone pair, male vs female; folds by speaker, and by
   speaker *and* word (the set has only 12 words: a model could learn words instead of tones).
2. Minimal pairs: each dspspeech word scored against the text of the word with the other tones
   (北京 ↔ 背景): wrong tones accepted.
3. aishell1-sample (native read sentences): toned syllables accepted / judged wrong; the same
   sentences with one syllable's tone replaced by Praat (PSOLA): misses; each sentence scored
   against another sentence's text: syllables judged correct, utterances recognised as not said.
4. davinfifield isolated syllables (the one speaker held out), with and without a profile.
5. Ablation: forced aligner vs energy segmentation, context features on/off, augmentation on/off.

Speed is measured by bench/pron_speed_bench.py (one pinned core, decoding included).

Run: .venv/bin/python bench/tone_bench.py [--quick]   (needs ../shared; ~15 min, --quick ~5 min)
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sayzhong.pronunciation import corpora  # noqa: E402
from sayzhong.pronunciation.classifier import KINDS, Thresholds, ToneModel, length_class  # noqa: E402


def _load_train() -> Any:
    spec = importlib.util.spec_from_file_location(
        "train_tone_model", REPO / "scripts" / "train_tone_model.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["train_tone_model"] = module
    spec.loader.exec_module(module)
    return module


T = _load_train()
FOLDS = T.N_FOLDS


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def fold_of_speaker() -> dict[str, int]:
    return {s: k for k, held in corpora.speaker_folds(corpora.all_corpora(), FOLDS) for s in held}


def cross_calibrated(cv: Any) -> tuple[np.ndarray, np.ndarray, list[Thresholds]]:
    """P(accepted), P(each wrong tone) and per-row thresholds calibrated on the other folds."""
    fold = fold_of_speaker()
    folds = np.array([fold[s] for s in cv.speaker])
    classes = np.array([length_class(len(t)) for t in cv.tones])
    pa = T.p_accepted(cv.x, cv.accepted)
    ths: list[Thresholds] = [Thresholds()] * pa.size
    for k in range(FOLDS):
        for cls in ("short", "long"):
            rows = np.flatnonzero((folds == k) & (classes == cls))
            calib = (folds != k) & (classes == cls) & (cv.corpus != "syllable-phrases")
            if rows.size == 0 or not calib.any():
                continue
            part = T.subset(cv, calib)
            th = T.calibrate(T.p_accepted(part.x, part.accepted), T.wrong_expectation_p(part.x, part.y), cls)
            for i in rows:
                ths[i] = th
    return pa, folds, ths


def verdict_rates(pa: np.ndarray, ths: list[Thresholds], mask: np.ndarray) -> tuple[float, float]:
    """(share judged correct, share judged wrong) of the rows in ``mask``."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return float("nan"), float("nan")
    correct = np.mean([pa[i] >= ths[i].correct for i in idx])
    wrong = np.mean([pa[i] < ths[i].wrong for i in idx])
    return float(correct), float(wrong)


def section_words(records: list[Any], out: list[str], *, hold_words: bool = False) -> None:
    title = "speaker and word held out" if hold_words else "speaker held out"
    out.append(f"\n## dspspeech20-train, two-syllable words, 24 speakers ({title})\n")
    out.append("| condition | top-1 tone accuracy | correct accepted | correct judged wrong | n |")
    out.append("|---|---:|---:|---:|---:|")
    for kind, label in (("level", "with profile (12 recordings)"), ("utterance", "without profile")):
        cv = T.cross_validate(records, kind, hold_words=hold_words)
        pa, _, ths = cross_calibrated(cv)
        pred = cv.x.argmax(axis=1)
        for sub, m in (
            ("all", cv.corpus == "dspspeech"),
            ("male", (cv.corpus == "dspspeech") & (cv.sex == "m")),
            ("female", (cv.corpus == "dspspeech") & (cv.sex == "f")),
        ):
            acc = float((pred[m] == cv.y[m]).mean())
            c, w = verdict_rates(pa, ths, m)
            out.append(f"| {label}, {sub} | {pct(acc)} | {pct(c)} | {pct(w)} | {int(m.sum())} |")
        if hold_words:
            continue
        if kind == "utterance":
            m = cv.corpus == "dspspeech"
            per_tone = " · ".join(
                f"T{t}: {pct(float((pred[m & (cv.y == t - 1)] == t - 1).mean()))}" for t in (1, 2, 3, 4)
            )
            out.append(f"\nPer tone (without profile): {per_tone}\n")
            pairs: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for i in np.flatnonzero(m):
                key = "-".join(str(t) for t in cv.tones[i])
                pairs[key][0] += int(pred[i] == cv.y[i])
                pairs[key][1] += 1
            out.append(
                "Per tone pair (without profile): "
                + " · ".join(f"{k}: {pct(v[0] / v[1])}" for k, v in sorted(pairs.items()))
                + "\n"
            )
            _minimal_pairs(cv, pa, ths, out)


# Words of the set that share syllables but differ in tones (the text read against the audio).
MINIMAL = {"北京": "背景", "背景": "北京"}


def _minimal_pairs(cv: Any, pa: np.ndarray, ths: list[Thresholds], out: list[str]) -> None:
    """Held-out probabilities of 北京 audio scored as 背景 (and back): P(the other word's tone)."""
    from sayzhong.pronunciation.text import expected_syllables

    other_tones = {w: [s.surface_tone for s in expected_syllables(o)] for w, o in MINIMAL.items()}
    accepted = uncertain = total = 0
    for i in range(cv.y.size):
        if cv.text[i] not in MINIMAL:
            continue
        wrong_tone = other_tones[cv.text[i]][cv.position[i]]
        if wrong_tone == cv.y[i] + 1:
            continue
        p = float(cv.x[i][wrong_tone - 1])
        accepted += int(p >= ths[i].correct)
        uncertain += int(ths[i].wrong <= p < ths[i].correct)
        total += 1
    out.append(
        f"Minimal pairs (北京 read against 背景's text and back, held-out speakers): wrong tones "
        f"accepted {pct(accepted / total)}, uncertain {pct(uncertain / total)}, flagged "
        f"{pct((total - accepted - uncertain) / total)} (n={total})\n"
    )


def section_isolated(records: list[Any], out: list[str]) -> None:
    out.append("\n## davinfifield isolated syllables (the speaker held out)\n")
    out.append("| condition | top-1 tone accuracy | correct accepted | correct judged wrong | n |")
    out.append("|---|---:|---:|---:|---:|")
    for kind, label in (("level", "with profile"), ("shape", "without profile")):
        cv = T.cross_validate(records, kind)
        pa, _, ths = cross_calibrated(cv)
        m = cv.corpus == "davinfifield"
        acc = float((cv.x.argmax(axis=1)[m] == cv.y[m]).mean())
        c, w = verdict_rates(pa, ths, m)
        out.append(f"| {label} | {pct(acc)} | {pct(c)} | {pct(w)} | {int(m.sum())} |")


def section_sentences(records: list[Any], out: list[str], quick: bool) -> None:
    out.append("\n## aishell1-sample, native read sentences (speaker held out)\n")
    out.append("| condition | toned syllables accepted | judged wrong | uncertain | n |")
    out.append("|---|---:|---:|---:|---:|")
    for kind, label in (("utterance", "without profile"), ("level", "with profile")):
        cv = T.cross_validate(records, kind)
        pa, _, ths = cross_calibrated(cv)
        m = cv.corpus == "aishell"
        c, w = verdict_rates(pa, ths, m)
        out.append(f"| {label} | {pct(c)} | {pct(w)} | {pct(1 - c - w)} | {int(m.sum())} |")
    end_to_end_sentences(records, out, quick)


def fold_models(records: list[Any], *, context: bool = True) -> dict[int, ToneModel]:
    """One full ToneModel per fold (trained without that fold's speakers), thresholds from the
    other folds' held-out predictions."""
    utts = corpora.all_corpora()
    profiles = T.speaker_profiles(records)
    cvs = {kind: T.cross_validate(records, kind, context=context) for kind in KINDS}
    models = {}
    for k, held in corpora.speaker_folds(utts, FOLDS):
        train_recs = [r for r in records if r.speaker not in held]
        nets = {}
        thresholds = {}
        for kind in KINDS:
            data = T.build_dataset(train_recs, kind, profiles, jitter_copies=1, seed=k, context=context)
            nets[kind] = T.train_ensemble(data, members=1, seed=k)
            cv = cvs[kind]
            for cls in ("short", "long"):
                calib = (
                    ~np.isin(cv.speaker, list(held))
                    & np.array([length_class(len(t)) == cls for t in cv.tones])
                    & (cv.corpus != "syllable-phrases")
                )
                if calib.any():
                    part = T.subset(cv, calib)
                    thresholds[f"{kind}/{cls}"] = T.calibrate(
                        T.p_accepted(part.x, part.accepted), T.wrong_expectation_p(part.x, part.y), cls
                    )
        models[k] = ToneModel(nets, {}, thresholds)
    return models


def end_to_end_sentences(records: list[Any], out: list[str], quick: bool) -> None:
    """Whole pipeline on held-out speakers' sentences: correct, one tone replaced, wrong text."""
    from sayzhong.pronunciation.analysis import analyse
    from sayzhong.pronunciation.audio import DecodedAudio
    from sayzhong.pronunciation.result import build_offline_result
    from sayzhong.pronunciation.text import expected_syllables

    models = fold_models(records)
    fold = fold_of_speaker()
    sentences = list(corpora.aishell())
    if quick:
        sentences = sentences[::3]
    rng = np.random.default_rng(5)
    counts: dict[str, int] = defaultdict(int)

    def scored(
        audio: DecodedAudio, text: str, model: ToneModel
    ) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
        expected = expected_syllables(text)
        analysis = analyse(audio, expected, None, model)
        res = build_offline_result(
            text=text, expected=expected, audio=audio, analysis=analysis, profile_used=False
        )
        return analysis, res, [s for w in res["NBest"][0]["Words"] for s in w["Syllables"]]

    for n, utt in enumerate(sentences):
        model = models[fold[utt.speaker]]
        samples = corpora.load_samples(utt)
        audio = DecodedAudio(samples, 16_000, samples.size / 16_000, "flac")
        expected = expected_syllables(utt.text)
        analysis, res, syls = scored(audio, utt.text, model)
        toned = [s for s in syls if s["ExpectedTone"] in (1, 2, 3, 4)]
        counts["e2e_toned"] += len(toned)
        for verdict in ("correct", "wrong", "not_said"):
            counts[f"e2e_{verdict}"] += sum(s["ToneVerdict"] == verdict for s in toned)
        counts["sentences"] += 1
        counts["sentences_ok"] += int(res["Utterance"]["Status"] in ("ok", "extra_speech"))
        # Another sentence's text (same speaker, different words).
        other = sentences[(n + 7) % len(sentences)]
        _, res2, syls2 = scored(audio, other.text, model)
        counts["other_syllables"] += len(syls2)
        counts["other_correct"] += sum(s["ToneVerdict"] == "correct" for s in syls2)
        counts["other_not_said"] += int(res2["Utterance"]["Status"] in ("different_text", "no_speech"))
        # One syllable's tone replaced (Praat PSOLA).
        if analysis.contours is None:
            continue
        candidates = [
            i
            for i, s in enumerate(expected)
            if s.judged and analysis.contours[i].span.said and analysis.contours[i].values_st.size >= 8
        ]
        if not candidates:
            continue
        i = int(rng.choice(candidates))
        target = int(rng.choice([t for t in (1, 2, 3, 4) if t not in expected[i].accepted_tones]))
        altered = impose_tone(samples, analysis, i, target)
        _, _, syls3 = scored(DecodedAudio(altered, 16_000, altered.size / 16_000, "wav"), utt.text, model)
        counts["imposed"] += 1
        counts["imposed_flagged"] += int(syls3[i]["ToneVerdict"] == "wrong")
        counts["imposed_uncertain"] += int(syls3[i]["ToneVerdict"] == "uncertain")
    t = counts["e2e_toned"]
    out.append(
        f"\nEnd to end (full result JSON, no profile, {counts['sentences']} sentences): toned syllables "
        f"judged correct {pct(counts['e2e_correct'] / t)}, wrong {pct(counts['e2e_wrong'] / t)}, "
        f"not said {pct(counts['e2e_not_said'] / t)}; sentences recognised as said "
        f"{pct(counts['sentences_ok'] / counts['sentences'])}.\n"
    )
    out.append(
        f"Against another sentence's text: syllables judged correct "
        f"{pct(counts['other_correct'] / counts['other_syllables'])}; takes reported as not said "
        f"{pct(counts['other_not_said'] / counts['sentences'])}.\n"
    )
    if counts["imposed"]:
        out.append(
            "One syllable's tone replaced by Praat (PSOLA): flagged wrong "
            f"{pct(counts['imposed_flagged'] / counts['imposed'])}, "
            f"uncertain {pct(counts['imposed_uncertain'] / counts['imposed'])}, missed "
            f"{pct(1 - (counts['imposed_flagged'] + counts['imposed_uncertain']) / counts['imposed'])} "
            f"(n={counts['imposed']}).\n"
        )


# Target shapes (semitones relative to the speaker's median) for an imposed tone.
IMPOSED = {1: (3.0, 3.0), 2: (-2.0, 4.0), 3: (-3.0, -7.0), 4: (5.0, -5.0)}


def impose_tone(samples: np.ndarray, analysis: Any, i: int, tone: int) -> np.ndarray:
    import parselmouth
    from parselmouth.praat import call

    span = analysis.contours[i].span
    ref = analysis.normalisation.ref_st
    sound = parselmouth.Sound(samples.astype(np.float64), sampling_frequency=16_000)
    manipulation = call(sound, "To Manipulation", 0.01, 60, 600)
    tier = call(manipulation, "Extract pitch tier")
    call(tier, "Remove points between", span.final_start_s, span.end_s)
    a, b = IMPOSED[tone]
    for r in np.linspace(0, 1, 6):
        st = ref + a + (b - a) * r
        call(
            tier,
            "Add point",
            span.final_start_s + r * (span.end_s - span.final_start_s),
            100 * 2 ** (st / 12),
        )
    call([tier, manipulation], "Replace pitch tier")
    out = call(manipulation, "Get resynthesis (overlap-add)")
    return np.asarray(out.values[0], dtype=np.float32)


def section_ablation(records_aug: list[Any], out: list[str]) -> None:
    out.append("\n## Ablation (speaker-disjoint top-1 accuracy / correct judged wrong, no profile)\n")
    out.append("| variant | words (dspspeech) | sentences (aishell) |")
    out.append("|---|---:|---:|")

    def row(label: str, records: list[Any], **kw: Any) -> None:
        cv = T.cross_validate(records, "utterance", **kw)
        pa, _, ths = cross_calibrated(cv)
        cells = []
        for c in ("dspspeech", "aishell"):
            m = cv.corpus == c
            acc = float((cv.x.argmax(axis=1)[m] == cv.y[m]).mean())
            _, w = verdict_rates(pa, ths, m)
            cells.append(f"{pct(acc)} / {pct(w)}")
        out.append(f"| {label} | {cells[0]} | {cells[1]} |")

    row("full engine (aligner, context, augmentation)", records_aug)
    row("context features off", records_aug, context=False)
    row("augmentation off", records_aug, train_versions={"orig"})
    os.environ["SAYZHONG_TRAIN_ALIGNER"] = "0"
    T.USE_ALIGNER = False
    row("energy segmentation instead of the aligner", T.load_records())
    T.USE_ALIGNER = True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer sentences in the end-to-end checks")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS-tones.md")
    parser.add_argument("--skip-ablation", action="store_true")
    args = parser.parse_args()
    t0 = time.time()
    records = T.load_records()
    out = [
        "# Tone engine benchmark (speaker-disjoint)",
        "",
        f"Produced by `bench/tone_bench.py` on {time.strftime('%Y-%m-%d')}; "
        f"{len(records)} recordings and augmented copies from ../shared/data.",
    ]
    section_words(records, out)
    section_words(records, out, hold_words=True)
    section_isolated(records, out)
    section_sentences(records, out, args.quick)
    if not args.skip_ablation:
        section_ablation(records, out)
    out.append(f"\n(benchmark ran {time.time() - t0:.0f} s)\n")
    text = "\n".join(out)
    print(text)
    args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
