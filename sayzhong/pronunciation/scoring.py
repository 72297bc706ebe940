"""Score formulas (documented in docs/pronunciation.md; keep the two in step).

- P(accepted) sums the probabilities of the expected tone and its optional-sandhi alternatives,
  from the tone network that sees the syllable in its phrase.
- ToneVerdict: ``wrong`` when P(accepted) < thresholds.wrong, ``correct`` from
  thresholds.correct up, ``uncertain`` in between (shown, never counted); both thresholds are
  calibrated on speakers held out of training (see scripts/train_tone_model.py). ``not_said``
  when the aligner found no trace of the syllable: no tone verdict at all.
- ToneScore (syllable) maps P(accepted) piecewise linearly so that the verdict thresholds fall on
  fixed marks: 0 → 0, wrong → 40, correct → 70, 1 → 100. "Correct" is always ≥ 70.
- AccuracyScore (syllable, offline) = ToneScore for judged syllables; 100 for a voiced neutral
  syllable; 0 for a syllable that was not said. With Azure:
  round(0.5 · Azure accuracy of the word + 0.5 · ToneScore) for judged syllables.
- AccuracyScore (word / utterance) = mean of its syllables' AccuracyScores.
- CompletenessScore = 100 · share of expected syllables that were said (aligner presence).
- FluencyScore = rate score − 15 per pause longer than 300 ms inside the speech (≥ 0);
  rate score is 100 between 1.5 and 7 syllables/s and falls linearly to 0 at 0.3 and 12.
- PronScore = 0.6 · Accuracy + 0.2 · Fluency + 0.2 · Completeness.
- ToneScore (utterance) = mean ToneScore of judged syllables.
"""

from __future__ import annotations

import numpy as np

from sayzhong.pronunciation.classifier import Thresholds
from sayzhong.pronunciation.pitch import PitchTrack

PAUSE_S = 0.3
PAUSE_PENALTY = 15.0
WRONG_MARK, CORRECT_MARK = 40.0, 70.0


def tone_score(p_accepted: float, thresholds: Thresholds) -> int:
    p = min(max(p_accepted, 0.0), 1.0)
    w, c = thresholds.wrong, max(thresholds.correct, thresholds.wrong + 1e-6)
    if p < w:
        return round(WRONG_MARK * p / w) if w > 0 else 0
    if p < c:
        return round(WRONG_MARK + (CORRECT_MARK - WRONG_MARK) * (p - w) / (c - w))
    return round(CORRECT_MARK + (100.0 - CORRECT_MARK) * (p - c) / max(1.0 - c, 1e-6))


def tone_verdict(p_accepted: float, thresholds: Thresholds) -> str:
    """``wrong``, ``uncertain`` or ``correct`` for a judged syllable that was said."""
    if p_accepted < thresholds.wrong:
        return "wrong"
    if p_accepted < thresholds.correct:
        return "uncertain"
    return "correct"


def rate_score(syllables_per_s: float) -> float:
    if 1.5 <= syllables_per_s <= 7.0:
        return 100.0
    if syllables_per_s < 1.5:
        return max(0.0, 100.0 * (syllables_per_s - 0.3) / 1.2)
    return max(0.0, 100.0 * (12.0 - syllables_per_s) / 5.0)


def count_long_pauses(track: PitchTrack, start: int, end: int) -> int:
    """Silent, unvoiced stretches longer than PAUSE_S between start and end frames."""
    if end - start < 3:
        return 0
    db = track.intensity_db[start:end]
    quiet = (db < float(np.percentile(track.intensity_db, 98)) - 30.0) & ~track.voiced[start:end]
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    runs = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int(np.sum(runs * track.step > PAUSE_S))


def fluency_score(n_syllables: int, speech_seconds: float, long_pauses: int) -> int:
    if n_syllables <= 1 or speech_seconds <= 0:
        base = 100.0 if speech_seconds <= 1.5 else max(0.0, 100.0 - 40.0 * (speech_seconds - 1.5))
    else:
        base = rate_score(n_syllables / speech_seconds)
    return round(max(0.0, base - PAUSE_PENALTY * long_pauses))


def pron_score(accuracy: float, fluency: float, completeness: float) -> int:
    return round(0.6 * accuracy + 0.2 * fluency + 0.2 * completeness)
