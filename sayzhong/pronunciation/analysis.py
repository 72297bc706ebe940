"""Per-syllable tone analysis of a decoded recording: F0 → aligned syllables → features → P(tone).

The expected syllables are located in the audio (``locate_syllables``: the forced aligner when its
model is present, energy/voicing segmentation otherwise), each syllable's final — the voiced rhyme
that carries the tone — gives a pitch contour, and the contour is judged *in its phrase*
(``features.phrase_features``) by the network that fits what is known about the speaker's voice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from opentelemetry import trace

from sayzhong.pronunciation.align import segment_syllables
from sayzhong.pronunciation.audio import DecodedAudio
from sayzhong.pronunciation.classifier import NOMINAL_RANGE_ST, Thresholds, ToneModel, load_model
from sayzhong.pronunciation.features import SyllablePitch, phrase_features
from sayzhong.pronunciation.pitch import PitchTrack, track_pitch
from sayzhong.pronunciation.profile import SpeakerProfile
from sayzhong.pronunciation.text import ExpectedSyllable

tracer = trace.get_tracer(__name__)

FloatArray = npt.NDArray[np.float64]

# Below this many judged syllables an utterance says too little about the speaker's pitch
# level, so without a profile only the contour's shape is used.
MIN_SYLLABLES_FOR_UTTERANCE_LEVEL = 2
UNDECIDABLE_CONFIDENCE = 0.4
EXTRA_SPEECH_S = 0.25
MIN_SAID_S = 0.06
BRIDGE_MIN_SYLLABLES = 5
BRIDGE_MIN_PRESENCE = 0.05


@dataclass(frozen=True, slots=True)
class Span:
    """Where one expected syllable sits in the recording, and whether it was said at all."""

    start_s: float
    end_s: float
    final_start_s: float
    """Start of the final (rhyme); the tone is judged from here to ``end_s``."""
    presence: float
    """0..1: how sure the aligner is that this syllable was said."""
    said: bool


@dataclass(frozen=True, slots=True)
class Location:
    """The expected text located in the recording."""

    spans: list[Span]
    status: str
    """``ok``, ``no_speech``, ``different_text``, ``partial`` or ``extra_speech``."""
    utterance_presence: float
    aligner: str
    """``hmm`` (forced alignment) or ``energy`` (segmentation fallback)."""
    extra: list[tuple[float, float]] = field(default_factory=list)
    """(start, end) seconds of speech outside the expected text (insertions)."""


@dataclass(frozen=True, slots=True)
class SyllableContour:
    span: Span
    times: FloatArray
    """Times (s) of the voiced frames inside the syllable's final."""
    values_st: FloatArray
    """F0 of those frames in semitones re 100 Hz."""
    voiced_fraction: float

    @property
    def pitch(self) -> SyllablePitch:
        return SyllablePitch(self.values_st, self.voiced_fraction, self.span.end_s - self.span.final_start_s)


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
    """P(tone 1..4), None when the syllable has too little voicing to judge or was not said."""

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
    location: Location
    contours: list[SyllableContour] | None
    """One per expected syllable; None when no speech was found at all."""
    normalisation: Normalisation
    judgements: list[ToneJudgement]
    thresholds: Thresholds
    """Verdict thresholds of the network that judged this utterance."""


def energy_location(track: PitchTrack, n: int) -> Location:
    """Fallback without the aligner model: split the speech into ``n`` syllables by energy."""
    segments = segment_syllables(track, n)
    if segments is None:
        return Location([], "no_speech", 0.0, "energy")
    half = track.step / 2
    spans = []
    for seg in segments:
        start = float(track.times[seg.start] - half)
        end = float(track.times[seg.end - 1] + half)
        voiced = float(track.voiced[seg.start : seg.end].mean())
        spans.append(Span(start, end, start, voiced, voiced > 0.1))
    return Location(spans, "ok", 1.0, "energy")


def locate_syllables(
    audio: DecodedAudio, track: PitchTrack, expected: Sequence[ExpectedSyllable], *, use_aligner: bool = True
) -> Location:
    """Forced alignment of the expected syllables (``use_aligner=False``: energy segmentation,
    kept for the benchmark's ablation)."""
    from sayzhong.pronunciation import aligner

    if not use_aligner or not aligner.MODEL_PATH.exists():
        return energy_location(track, len(expected))
    try:
        voiced_s = float(np.count_nonzero(track.voiced)) * track.step
        result = aligner.align_text(audio.samples, audio.sample_rate, expected, voiced_s=voiced_s)
    except ValueError:
        # Text the acoustic units do not cover (a bare nasal such as 嗯 ǹg): split by energy.
        return energy_location(track, len(expected))
    if result.status == "no_speech" or not result.syllables:
        return Location([], "no_speech", 0.0, "hmm")
    spans = [
        # A syllable squeezed into a few frames was not said, whatever its score.
        Span(
            s.start_s,
            s.end_s,
            min(s.final_start_s, s.end_s - 0.02),
            s.presence,
            s.said and s.end_s - s.start_s >= MIN_SAID_S,
        )
        for s in result.syllables
    ]
    extra = []
    if result.status == "extra_speech":
        if spans[0].start_s - result.speech_start_s > EXTRA_SPEECH_S:
            extra.append((result.speech_start_s, spans[0].start_s))
        if result.speech_end_s - spans[-1].end_s > EXTRA_SPEECH_S:
            extra.append((spans[-1].end_s, result.speech_end_s))
    spans = _bridge_single_gaps(spans)
    status = result.status
    if status in ("partial", "different_text") and all(s.said for s in spans):
        status = "ok"
    if status == "ok" and not all(s.said for s in spans):
        status = "partial"
    return Location(spans, status, result.utterance_presence, "hmm", extra)


def _bridge_single_gaps(spans: list[Span]) -> list[Span]:
    """In a longer phrase, one syllable "not said" between two said ones is the aligner doubting
    a fast, reduced syllable far more often than a learner skipping it (on held-out native
    sentences); such a syllable counts as said when the aligner saw some trace of it."""
    if len(spans) < BRIDGE_MIN_SYLLABLES:
        return spans
    out = list(spans)
    for i in range(1, len(spans) - 1):
        s = spans[i]
        if not s.said and spans[i - 1].said and spans[i + 1].said and s.presence >= BRIDGE_MIN_PRESENCE:
            if s.end_s - s.start_s >= MIN_SAID_S:
                out[i] = Span(s.start_s, s.end_s, s.final_start_s, s.presence, True)
    return out


def span_contour(track: PitchTrack, span: Span) -> SyllableContour:
    """The voiced F0 of a syllable's final; a little of the initial is included when the final's
    own voicing is too short (a fast syllable whose final the aligner cut tight)."""
    t = track.times
    sel = (t >= span.final_start_s) & (t < span.end_s)
    st = track.f0_st[sel]
    if np.count_nonzero(~np.isnan(st)) < 4:
        sel = (t >= span.start_s) & (t < span.end_s)
        st = track.f0_st[sel]
    voiced = ~np.isnan(st)
    return SyllableContour(span, t[sel][voiced], st[voiced], float(voiced.mean()) if voiced.size else 0.0)


def choose_normalisation(
    contours: Sequence[SyllableContour], judged: Sequence[bool], profile: SpeakerProfile | None
) -> Normalisation:
    if profile is not None:
        return Normalisation(profile.median_st, profile.range_st, "profile")
    usable = [
        c.values_st
        for c, j in zip(contours, judged, strict=True)
        if j and c.span.said and c.values_st.size >= 4
    ]
    if len(usable) >= MIN_SYLLABLES_FOR_UTTERANCE_LEVEL:
        return utterance_normalisation(usable)
    voiced = [c.values_st for c in contours if c.values_st.size]
    allv = np.concatenate(voiced) if voiced else np.zeros(0)
    ref = float(np.median(allv)) if allv.size else 0.0
    return Normalisation(ref, NOMINAL_RANGE_ST, "shape-only")


def utterance_normalisation(values: Sequence[FloatArray]) -> Normalisation:
    """The statistics a profile keeps (median, 5-95 % span), taken from one utterance's syllables."""
    allv = np.concatenate(list(values))
    span = float(np.percentile(allv, 95) - np.percentile(allv, 5))
    return Normalisation(float(np.median(allv)), min(max(span, 4.0), 20.0), "utterance")


def judge_phrase(
    contours: Sequence[SyllableContour],
    expected: Sequence[ExpectedSyllable],
    norm: Normalisation,
    model: ToneModel,
) -> list[ToneJudgement]:
    """P(tone) for every judged syllable that was said, each in the context of its phrase."""
    pitches = [c.pitch if c.span.said else None for c in contours]
    tones = [s.surface_tone for s in expected]
    feats = phrase_features(
        pitches,
        tones,
        ref_st=norm.ref_st,
        range_st=norm.range_st,
        level=norm.uses_level,
    )
    shapes = (
        phrase_features(pitches, tones, ref_st=0.0, range_st=NOMINAL_RANGE_ST, level=False)
        if norm.uses_level
        else feats
    )
    out = []
    for syl, f, fs in zip(expected, feats, shapes, strict=True):
        if not syl.judged or f is None or fs is None:
            out.append(ToneJudgement(None))
        elif norm.uses_level:
            p = ToneModel.mix(model.predict(f, kind=norm.model_kind), model.predict(fs, kind="shape"))
            out.append(ToneJudgement(p))
        else:
            out.append(ToneJudgement(model.predict(f, kind="shape")))
    return out


def analyse(
    audio: DecodedAudio,
    expected: Sequence[ExpectedSyllable],
    profile: SpeakerProfile | None = None,
    model: ToneModel | None = None,
    *,
    use_aligner: bool = True,
) -> Analysis:
    """Track pitch, locate the expected syllables and judge the tone of each judged one
    (``use_aligner=False`` splits the speech by energy instead: for tests on synthetic voices,
    which the aligner rightly does not take for speech, and for the benchmark's ablation)."""
    model = model or load_model()
    with tracer.start_as_current_span("pronunciation.pitch"):
        track = track_pitch(audio.samples, audio.sample_rate)
    with tracer.start_as_current_span("pronunciation.align"):
        location = locate_syllables(audio, track, expected, use_aligner=use_aligner)
    if not location.spans:
        norm = Normalisation(profile.median_st if profile else 0.0, NOMINAL_RANGE_ST, "shape-only")
        judgements = [ToneJudgement(None) for _ in expected]
        return Analysis(
            track, location, None, norm, judgements, model.thresholds_for(norm.model_kind, len(expected))
        )
    with tracer.start_as_current_span("pronunciation.classify"):
        contours = [span_contour(track, span) for span in location.spans]
        norm = choose_normalisation(contours, [s.judged for s in expected], profile)
        judgements = judge_phrase(contours, expected, norm, model)
    return Analysis(
        track, location, contours, norm, judgements, model.thresholds_for(norm.model_kind, len(expected))
    )
