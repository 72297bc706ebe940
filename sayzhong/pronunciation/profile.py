"""Speaker calibration profile: where this speaker's pitch sits and how wide it ranges.

A man's tone 1 can sit below a woman's tone 3, so pitch level only means something relative
to the speaker. ``build_profile`` reads a few recordings of known text (the microphone check)
and stores the median and range of the voiced F0 in semitones, plus per-tone statistics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sayzhong.errors import SayZhongError

PROFILE_FORMAT = "sayzhong-speaker-profile/1"
MIN_VOICED_FRAMES = 20


class ProfileError(SayZhongError):
    code = "profile_invalid"
    default_message = "We could not calibrate your voice from those recordings. Please record them again."


@dataclass(frozen=True)
class SpeakerProfile:
    median_st: float
    """Median voiced F0 in semitones re 100 Hz."""
    range_st: float
    """5th-95th percentile span of voiced F0 in semitones."""
    median_hz: float
    n_recordings: int
    n_syllables: int
    tone_stats: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per expected surface tone ("1".."4"): mean level, slope (st) and count, relative to median."""

    def to_dict(self) -> dict[str, Any]:
        return {"format": PROFILE_FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpeakerProfile:
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            raise ProfileError("That is not a SayZhong speaker profile.")
        try:
            median_st = float(data["median_st"])
            range_st = float(data["range_st"])
            if not (-24.0 < median_st < 48.0 and 1.0 <= range_st <= 40.0):
                raise ValueError("out of range")
            return cls(
                median_st=median_st,
                range_st=range_st,
                median_hz=float(data.get("median_hz", 100.0 * 2 ** (median_st / 12))),
                n_recordings=int(data.get("n_recordings", 0)),
                n_syllables=int(data.get("n_syllables", 0)),
                tone_stats={
                    str(k): {str(a): float(b) for a, b in v.items()}
                    for k, v in dict(data.get("tone_stats", {})).items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProfileError("The speaker profile is damaged. Please calibrate again.") from exc


def build_profile(samples: list[tuple[bytes, str]]) -> SpeakerProfile:
    """Profile from (audio bytes, known text) pairs; raises AudioError/TextError/ProfileError."""
    from sayzhong.pronunciation.analysis import locate_syllables, span_contour
    from sayzhong.pronunciation.audio import decode_audio
    from sayzhong.pronunciation.pitch import track_pitch
    from sayzhong.pronunciation.text import expected_syllables

    if not samples:
        raise ProfileError("Record at least one phrase to calibrate your voice.")
    voiced_all: list[np.ndarray] = []
    per_tone: dict[int, list[tuple[float, float]]] = {}
    n_syllables = 0
    for number, (data, text) in enumerate(samples, start=1):
        try:
            expected = expected_syllables(text)
            audio = decode_audio(data)
        except SayZhongError as exc:  # say which recording of the set is unusable
            raise type(exc)(f"Recording {number}: {exc.user_message}", code=exc.code) from exc
        track = track_pitch(audio.samples, audio.sample_rate)
        voiced = track.f0_st[track.voiced]
        if voiced.size:
            voiced_all.append(voiced)
        location = locate_syllables(audio, track, expected)
        if location.status in ("no_speech", "different_text"):
            continue  # its voice still tells the pitch range; its syllables cannot be placed
        for syl, located in zip(expected, location.spans, strict=True):
            c = span_contour(track, located)
            if syl.judged and located.said and c.values_st.size >= 4:
                slope = float(np.polyfit(np.linspace(0, 1, c.values_st.size), c.values_st, 1)[0])
                per_tone.setdefault(syl.surface_tone, []).append((float(np.mean(c.values_st)), slope))
                n_syllables += 1
    allv = np.concatenate(voiced_all) if voiced_all else np.zeros(0)
    if allv.size < MIN_VOICED_FRAMES:
        raise ProfileError("We heard too little voice in those recordings. Please say the phrases clearly.")
    median = float(np.median(allv))
    span = float(np.percentile(allv, 95) - np.percentile(allv, 5))
    stats = {
        str(t): {
            "mean_level_st": round(float(np.mean([m for m, _ in v])) - median, 3),
            "mean_slope_st": round(float(np.mean([s for _, s in v])), 3),
            "count": float(len(v)),
        }
        for t, v in sorted(per_tone.items())
    }
    return SpeakerProfile(
        median_st=round(median, 3),
        range_st=round(min(max(span, 3.0), 30.0), 3),
        median_hz=round(float(100.0 * 2 ** (median / 12)), 1),
        n_recordings=len(samples),
        n_syllables=n_syllables,
        tone_stats=stats,
    )
