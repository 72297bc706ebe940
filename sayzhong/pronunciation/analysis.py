"""Per-syllable tone analysis of a decoded recording: F0 → segments → features → P(tone)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sayzhong.pronunciation.align import Segment, segment_syllables
from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.classifier import NOMINAL_RANGE_ST, ToneModel, load_model, tone_features
from sayzhong.pronunciation.pitch import PitchTrack, track_pitch
from sayzhong.pronunciation.profile import SpeakerProfile

FloatArray = npt.NDArray[np.float64]

# Below this many judged syllables an utterance says too little about the speaker's pitch
# level, so without a profile only the contour's shape is used.
MIN_SYLLABLES_FOR_UTTERANCE_LEVEL = 2
UNDECIDABLE_CONFIDENCE = 0.4


@dataclass(frozen=True, slots=True)
class SyllableContour:
    segment: Segment
    times: FloatArray
    """Times (s) of the voiced frames inside the segment."""
    values_st: FloatArray
    """F0 of those frames in semitones re 100 Hz."""
    voiced_fraction: float


@dataclass(frozen=True, slots=True)
class Normalisation:
    ref_st: float
    range_st: float
    mode: str
    """``profile``, ``utterance`` or ``shape-only``."""

    @property
    def uses_level(self) -> bool:
        return self.mode != "shape-only"

    @property
    def model_kind(self) -> str:
        return {"profile": "level", "utterance": "utterance"}.get(self.mode, "shape")


@dataclass(frozen=True, slots=True)
class ToneJudgement:
    probabilities: FloatArray | None
    """P(tone 1..4), None when the syllable has too little voicing to judge."""

    @property
    def detected(self) -> int | None:
        if self.probabilities is None or float(self.probabilities.max()) < UNDECIDABLE_CONFIDENCE:
            return None
        return int(np.argmax(self.probabilities)) + 1

    @property
    def confidence(self) -> float:
        return 0.0 if self.probabilities is None else float(self.probabilities.max())

    def probability_of(self, tone: int) -> float:
        if self.probabilities is None or not 1 <= tone <= 4:
            return 0.0
        return float(self.probabilities[tone - 1])


@dataclass(frozen=True, slots=True)
class Analysis:
    track: PitchTrack
    contours: list[SyllableContour] | None
    normalisation: Normalisation
    judgements: list[ToneJudgement]


def syllable_contours(track: PitchTrack, n: int) -> list[SyllableContour] | None:
    segments = segment_syllables(track, n)
    if segments is None:
        return None
    out = []
    for seg in segments:
        sl = slice(seg.start, seg.end)
        st = track.f0_st[sl]
        voiced = ~np.isnan(st)
        out.append(
            SyllableContour(
                seg,
                track.times[sl][voiced],
                st[voiced],
                float(voiced.mean()) if voiced.size else 0.0,
            )
        )
    return out


def choose_normalisation(
    contours: list[SyllableContour], judged: list[bool], profile: SpeakerProfile | None
) -> Normalisation:
    if profile is not None:
        return Normalisation(profile.median_st, profile.range_st, "profile")
    usable = [c.values_st for c, j in zip(contours, judged, strict=True) if j and c.values_st.size >= 4]
    if len(usable) >= MIN_SYLLABLES_FOR_UTTERANCE_LEVEL:
        return utterance_normalisation(usable)
    voiced = np.concatenate([c.values_st for c in contours]) if contours else np.zeros(0)
    ref = float(np.median(voiced)) if voiced.size else 0.0
    return Normalisation(ref, NOMINAL_RANGE_ST, "shape-only")


def utterance_normalisation(values: list[FloatArray]) -> Normalisation:
    """The statistics a profile keeps (median, 5-95 % span), taken from one utterance's syllables."""
    allv = np.concatenate(values)
    span = float(np.percentile(allv, 95) - np.percentile(allv, 5))
    return Normalisation(float(np.median(allv)), min(max(span, 4.0), 20.0), "utterance")


def judge(contour: SyllableContour, norm: Normalisation, model: ToneModel) -> ToneJudgement:
    feats = tone_features(
        contour.values_st,
        ref_st=norm.ref_st,
        range_st=norm.range_st,
        voiced_fraction=contour.voiced_fraction,
        level=norm.uses_level,
    )
    if feats is None:
        return ToneJudgement(None)
    return ToneJudgement(model.predict(feats, kind=norm.model_kind))


def analyse(
    audio: DecodedAudio,
    judged: list[bool],
    profile: SpeakerProfile | None = None,
    model: ToneModel | None = None,
) -> Analysis:
    """Track pitch, split into ``len(judged)`` syllables and judge the tone of each judged one."""
    model = model or load_model()
    track = track_pitch(audio.samples, audio.sample_rate)
    contours = syllable_contours(track, len(judged))
    if contours is None:
        norm = Normalisation(profile.median_st if profile else 0.0, NOMINAL_RANGE_ST, "shape-only")
        return Analysis(track, None, norm, [ToneJudgement(None) for _ in judged])
    norm = choose_normalisation(contours, judged, profile)
    judgements = [
        judge(c, norm, model) if j else ToneJudgement(None) for c, j in zip(contours, judged, strict=True)
    ]
    return Analysis(track, contours, norm, judgements)
