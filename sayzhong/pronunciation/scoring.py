"""Score formulas (documented in docs/pronunciation.md; keep the two in step).

- ToneScore (syllable) = round(100 · P(accepted)), where P(accepted) sums the probabilities of
  the expected tone and its optional-sandhi alternatives; a judged syllable is a tone error
  when P(accepted) < TONE_ERROR_THRESHOLD.
- AccuracyScore (syllable, offline) = ToneScore for judged syllables; 100 for a voiced neutral
  syllable; 0 for an omitted syllable (no voicing where it should be). With Azure:
  round(0.5 · Azure accuracy of the word + 0.5 · ToneScore) for judged syllables.
- AccuracyScore (word / utterance) = mean of its syllables' AccuracyScores.
- CompletenessScore = 100 · share of syllables that were heard (not omitted).
- FluencyScore = rate score − 15 per pause longer than 300 ms inside the speech (≥ 0);
  rate score is 100 between 1.5 and 7 syllables/s and falls linearly to 0 at 0.3 and 12.
- PronScore = 0.6 · Accuracy + 0.2 · Fluency + 0.2 · Completeness.
- ToneScore (utterance) = mean ToneScore of judged syllables.
"""

from __future__ import annotations

import numpy as np

from sayzhong.pronunciation.pitch import PitchTrack

TONE_ERROR_THRESHOLD = 0.25
PAUSE_S = 0.3
PAUSE_PENALTY = 15.0


def tone_score(p_expected: float) -> int:
    return round(100.0 * min(max(p_expected, 0.0), 1.0))


def is_tone_error(p_expected: float) -> bool:
    return p_expected < TONE_ERROR_THRESHOLD


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
