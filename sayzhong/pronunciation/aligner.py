"""Speaker-independent forced aligner for Mandarin: expected syllables ↔ a recording.

Owns: the GMM-HMM acoustic model (units from ``phones.py``, features from ``acoustic.py``),
forced alignment of the expected syllables, the free phone loop it is compared with, and the
calibrated "was it said" decisions for every syllable and for the utterance.

How it works
------------
- Every unit (21 initials, vowels, the codas n/ng and silence) is a left-to-right HMM whose
  states emit diagonal-Gaussian mixtures. Vowels have 3 states with a skip over the middle one
  (so a glide or an unstressed vowel in fast speech can be 2 frames long), initials and codas 2,
  silence 3. Transition probabilities are not modelled (all 0 in the log domain): for alignment
  they matter far less than the emissions, and leaving them out keeps the forced and the free
  path comparable frame for frame.
- Forced graph: ``[edge] syl1 [pause] syl2 … sylN [edge]``. ``pause`` is optional silence
  between syllables (so pauses never stretch a syllable). ``edge`` is optional and emits either
  silence or "garbage" (the best speech state of that frame minus a per-frame penalty), so noise
  and *extra words* before/after the expected text go to the edges instead of being swallowed
  by the first/last syllable; the garbage frames are reported as ``extra_speech_s``.
- Every syllable also has a "filler" alternative (garbage, entered at a fixed cost): a syllable
  that was not said takes a frame or a few there instead of squeezing its states into its
  neighbours' speech (a cut-off take otherwise drags the said syllables out of place).
- Free phone loop: any unit may follow any unit (with an insertion penalty). Goodness of
  pronunciation (GOP) of a syllable = (forced log-likelihood − free-loop log-likelihood) per
  frame over the syllable's frames. A logistic regression over [GOP, worst unit's GOP, aligned
  to its filler, share of frames the free loop calls silence, log duration, loudness relative
  to the utterance] gives a per-syllable log-likelihood ratio "said vs not said".
- Presence is then *structured*: people say the whole text, none of it, one contiguous part of
  it, or all of it but one skipped part; they do not say every other syllable. The posterior
  over those hypotheses (``structured_posteriors``) turns the ratios into P(said) per syllable
  and P(whole text) (= ``utterance_presence``), so chance matches of single syllables in another
  sentence do not count as "said". Weights and priors are fitted on held-out speakers by
  ``scripts/train_aligner.py`` (see bench/RESULTS-align.md for what they achieve).
- Status: no_speech (energy), ok / extra_speech (all said; extra_speech when ≥ 0.4 s of garbage
  speech sits at the edges), partial (some said), different_text (none said).
- "No speech" is decided from the energy envelope alone (loud end vs noise floor), not from the
  models: after per-utterance normalisation, steady room noise looks as much like speech as
  anything else.

The model file (``model/aligner_model.npz``) is written by ``scripts/train_aligner.py``; the
HMM/Viterbi code here is shared by training, benchmark and run time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sayzhong.pronunciation import acoustic
from sayzhong.pronunciation.phones import SIL, UNITS, VOWELS, syllable_units
from sayzhong.pronunciation.text import ExpectedSyllable

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

MODEL_PATH = Path(__file__).with_name("model") / "aligner_model.npz"
PRESENCE_THRESHOLD = 0.5
MIN_VOICED_SPEECH_S = 0.12
NEG = -1e30

STATUS_OK = "ok"
STATUS_NO_SPEECH = "no_speech"
STATUS_DIFFERENT = "different_text"
STATUS_PARTIAL = "partial"
STATUS_EXTRA = "extra_speech"


def unit_states(unit: str) -> int:
    if unit == SIL or unit in VOWELS:
        return 3
    return 2


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyllableAlignment:
    start_s: float
    """Syllable start (initial consonant included)."""
    end_s: float
    final_start_s: float
    """Where the final (rhyme, carrier of the tone) starts; == start_s for zero initials."""
    presence: float
    """Calibrated 0..1 probability that this syllable was said."""
    gop: float
    """Mean per-frame log-likelihood ratio forced vs free loop (diagnostics)."""
    said: bool
    """presence >= PRESENCE_THRESHOLD."""


@dataclass(frozen=True, slots=True)
class Alignment:
    syllables: list[SyllableAlignment]
    """One per expected syllable, in order, non-overlapping."""
    speech_start_s: float
    """Start of the detected speech (aligned syllables and any extra speech)."""
    speech_end_s: float
    utterance_presence: float
    """Calibrated 0..1 probability that the expected text as a whole was said."""
    status: str
    """ok | no_speech | different_text | partial | extra_speech."""
    extra_speech_s: float
    """Seconds of speech outside the aligned syllables (insertions before/after the text)."""


# --- model ---------------------------------------------------------------------------------


@dataclass
class AcousticModel:
    """Per-state diagonal GMMs plus the decoding constants and the calibration."""

    means: FloatArray  # (S, K, D)
    variances: FloatArray  # (S, K, D)
    log_weights: FloatArray  # (S, K)
    unit_offset: dict[str, int]
    """First state index of every unit; its states are consecutive."""
    config: dict[str, Any] = field(default_factory=dict)
    _a: FloatArray = field(init=False, repr=False)
    _b: FloatArray = field(init=False, repr=False)
    _c: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Precompute the emission matrices (call after changing the parameters)."""
        s, k, d = self.means.shape
        inv = 1.0 / self.variances
        self._a = (-0.5 * inv).reshape(s * k, d).T.copy()
        self._b = (self.means * inv).reshape(s * k, d).T.copy()
        const = -0.5 * np.sum(self.means**2 * inv + np.log(self.variances) + np.log(2 * np.pi), axis=2)
        self._c = (self.log_weights + const).reshape(s * k)

    @property
    def n_states(self) -> int:
        return int(self.means.shape[0])

    def sil_states(self) -> IntArray:
        o = self.unit_offset[SIL]
        return np.arange(o, o + unit_states(SIL))

    def log_likelihoods(self, x: FloatArray) -> FloatArray:
        """(frames, states) emission log-likelihoods."""
        s, k, _ = self.means.shape
        comp = (x * x) @ self._a + x @ self._b + self._c
        comp = comp.reshape(x.shape[0], s, k)
        top = comp.max(axis=2)
        return np.asarray(top + np.log(np.exp(comp - top[:, :, None]).sum(axis=2)))

    def component_posteriors(self, state: int, x: FloatArray) -> FloatArray:
        k = self.means.shape[1]
        sl = slice(state * k, (state + 1) * k)
        comp = (x * x) @ self._a[:, sl] + x @ self._b[:, sl] + self._c[sl]
        comp -= comp.max(axis=1, keepdims=True)
        p = np.exp(comp)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            means=self.means.astype(np.float32),
            variances=self.variances.astype(np.float32),
            log_weights=self.log_weights.astype(np.float32),
            meta=np.array(json.dumps({"unit_offset": self.unit_offset, "config": self.config})),
        )

    @classmethod
    def load(cls, path: Path) -> AcousticModel:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls(
                z["means"].astype(np.float64),
                z["variances"].astype(np.float64),
                z["log_weights"].astype(np.float64),
                {str(k): int(v) for k, v in meta["unit_offset"].items()},
                meta["config"],
            )


def empty_layout() -> dict[str, int]:
    """State offsets of all units, in ``UNITS`` order."""
    offsets: dict[str, int] = {}
    n = 0
    for u in UNITS:
        offsets[u] = n
        n += unit_states(u)
    return offsets


DEFAULT_CONFIG: dict[str, Any] = {
    "garbage_penalty": 4.0,  # nats per frame for explaining an edge frame as extra speech
    "loop_penalty": 3.0,  # nats per unit entered in the free phone loop
    "delete_penalty": 20.0,  # nats for aligning a syllable to its filler (not said) instead
    "presence_w": [1.0, 0.3, -3.0, -3.0, 0.5, 0.5],  # logistic over RawAlignment.features, then bias
    "presence_b": 2.0,
    "tau": 1.0,  # scale of the syllable log-likelihood ratios in the structured posterior
    "prior_none": -2.0,  # log prior of "none of the text" relative to "all of it"
    "prior_part": -4.0,  # … of "one contiguous block of it"
    "prior_skip": -6.0,  # … of "all but one contiguous block"
    "min_range_db": 15.0,  # loud end minus noise floor below this: no speech
    "extra_min_s": 0.4,  # at least this much garbage speech at the edges for "extra_speech"
    "feature_key": acoustic.PARAMS_KEY,
}


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def load_aligner(path: Path = MODEL_PATH) -> AcousticModel:
    """The trained model, loaded once (thread-safe)."""
    with _load_lock:
        model = AcousticModel.load(path)
        model.config = {**DEFAULT_CONFIG, **model.config}
        return model


# --- graphs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Graph:
    """A left-to-right state graph: every node has up to P predecessors (-1 = none)."""

    column: IntArray
    """Emission column of each node (a model state, or a special column ≥ n_states)."""
    preds: IntArray  # (N, P)
    cost: FloatArray
    """(N, P) log cost of each predecessor arc."""
    start: npt.NDArray[np.bool_]
    end: npt.NDArray[np.bool_]
    syllable: IntArray
    """Syllable index of each node, -1 for edges and pauses."""
    is_final: npt.NDArray[np.bool_]
    """Node belongs to the syllable's final (not its initial)."""
    unit: IntArray
    """Running index of the unit each node belongs to (-1 for edges, pauses and fillers)."""
    filler: npt.NDArray[np.bool_]
    """The node stands in for a syllable that was not said."""


def _unit_nodes(model: AcousticModel, unit: str) -> list[tuple[int, list[int]]]:
    """(column, intra-unit predecessor offsets) for each state of a unit, relative indices."""
    o = model.unit_offset[unit]
    n = unit_states(unit)
    nodes: list[tuple[int, list[int]]] = []
    for j in range(n):
        rel = [0] if j == 0 else [0, -1]
        if n == 3 and j == 2 and unit != SIL:
            rel.append(-2)  # skip the middle state of a vowel
        nodes.append((o + j, rel))
    return nodes


N_FEATURES = 6
SIL_COL = 0  # offsets into the special columns appended after the model states
EDGE_COL = 1
FILLER_COL = 2  # garbage only: a syllable not said may not hide in a pause, pauses are free


def forced_graph(
    model: AcousticModel,
    syllables: Sequence[tuple[Sequence[str], Sequence[str]]],
    delete_penalty: float | None = None,
) -> Graph:
    """``[edge] syl1 [pause] syl2 … [edge]``; syllables are (initial units, final units).

    Every syllable has an alternative "filler" node (garbage, entered at a cost of
    ``delete_penalty``): a syllable that was not said then takes a frame or a few of whatever is
    there instead of squeezing its states into the neighbours' speech.
    """
    if delete_penalty is None:
        delete_penalty = float(model.config.get("delete_penalty", DEFAULT_CONFIG["delete_penalty"]))
    s = model.n_states
    cols: list[int] = []
    preds: list[list[tuple[int, float]]] = []
    syl_of: list[int] = []
    fin: list[bool] = []
    unit_of: list[int] = []
    filler: list[bool] = []
    n_units = 0

    def add(col: int, pr: list[tuple[int, float]], syl: int, is_final: bool, is_filler: bool = False) -> int:
        cols.append(col)
        preds.append(pr)
        syl_of.append(syl)
        fin.append(is_final)
        unit_of.append(n_units if syl >= 0 and not is_filler else -1)
        filler.append(is_filler)
        return len(cols) - 1

    lead = add(s + EDGE_COL, [], -1, False)
    preds[lead] = [(lead, 0.0)]
    entry_from: list[int] = [lead]  # nodes that may precede the next syllable's first node
    start_nodes = [lead]
    exits: list[int] = []
    for i, (ini, final) in enumerate(syllables):
        first_node = True
        last = -1
        for unit, is_final in [*((u, False) for u in ini), *((u, True) for u in final)]:
            base = len(cols)
            for j, (col, rel) in enumerate(_unit_nodes(model, unit)):
                pr = [(base + j + r, 0.0) for r in rel]
                if j == 0:
                    pr += [(last, 0.0)] if not first_node else [(e, 0.0) for e in entry_from]
                node = add(col, pr, i, is_final)
                if first_node and i == 0:
                    start_nodes.append(node)
                first_node = False
            last = len(cols) - 1
            n_units += 1
        fill = add(s + FILLER_COL, [], i, False, True)
        preds[fill] = [(fill, 0.0), *((e, -delete_penalty) for e in entry_from)]
        if i == 0:
            start_nodes.append(fill)
        exits = [last, fill]
        if i < len(syllables) - 1:
            pause = add(s + SIL_COL, [], -1, False)
            preds[pause] = [(pause, 0.0), *((e, 0.0) for e in exits)]
            entry_from = [*exits, pause]
    trail = add(s + EDGE_COL, [], -1, False)
    preds[trail] = [(trail, 0.0), *((e, 0.0) for e in exits)]
    width = max(len(p) for p in preds)
    arr = np.full((len(cols), width), -1, dtype=np.int64)
    cost = np.zeros((len(cols), width))
    for n, p in enumerate(preds):
        arr[n, : len(p)] = [a for a, _ in p]
        cost[n, : len(p)] = [c for _, c in p]
    start = np.zeros(len(cols), dtype=bool)
    start[start_nodes] = True
    end = np.zeros(len(cols), dtype=bool)
    end[[trail, *exits]] = True
    return Graph(
        np.array(cols),
        arr,
        cost,
        start,
        end,
        np.array(syl_of),
        np.array(fin),
        np.array(unit_of),
        np.array(filler),
    )


def viterbi(emis: FloatArray, graph: Graph) -> tuple[IntArray, float]:
    """Best node path through ``graph`` for emissions (frames, nodes); (path, score)."""
    t_len, n = emis.shape
    preds = graph.preds
    valid = preds >= 0
    idx = np.where(valid, preds, 0)
    pen = np.where(valid, graph.cost, NEG)
    rows = np.arange(n)
    back = np.empty((t_len, n), dtype=np.int8)
    delta = np.where(graph.start, emis[0], NEG)
    for t in range(1, t_len):
        cand = delta[idx] + pen
        j = cand.argmax(axis=1)
        back[t] = j
        delta = cand[rows, j] + emis[t]
    final = np.where(graph.end, delta, NEG)
    node = int(final.argmax())
    score = float(final[node])
    path = np.empty(t_len, dtype=np.int64)
    for t in range(t_len - 1, -1, -1):
        path[t] = node
        if t:
            node = int(idx[node, back[t, node]])
    return path, score


@lru_cache(maxsize=8)
def _loop_layout(offsets: tuple[tuple[str, int], ...]) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Free-loop predecessors: (intra-unit preds (S, 3), entry states, exit states, unit of state)."""
    offset = dict(offsets)
    n = sum(unit_states(u) for u in offset)
    preds = np.full((n, 3), -1, dtype=np.int64)
    entries, exits = [], []
    unit_of = np.zeros(n, dtype=np.int64)
    for ui, u in enumerate(UNITS):
        o, k = offset[u], unit_states(u)
        unit_of[o : o + k] = ui
        entries.append(o)
        exits.append(o + k - 1)
        for j in range(k):
            preds[o + j, 0] = o + j
            if j:
                preds[o + j, 1] = o + j - 1
            if k == 3 and j == 2 and u != SIL:
                preds[o + j, 2] = o
    return preds, np.array(entries), np.array(exits), unit_of


def free_loop(model: AcousticModel, ll: FloatArray) -> IntArray:
    """Best state path of the free phone loop (any unit after any unit) over (frames, states)."""
    preds, entries, exits, _ = _loop_layout(tuple(model.unit_offset.items()))
    penalty = float(model.config.get("loop_penalty", DEFAULT_CONFIG["loop_penalty"]))
    t_len, n = ll.shape
    valid = preds >= 0
    idx = np.where(valid, preds, 0)
    pen = np.where(valid, 0.0, NEG)
    rows = np.arange(n)
    back = np.empty((t_len, n), dtype=np.int64)
    delta = np.full(n, NEG)
    delta[entries] = ll[0, entries]
    for t in range(1, t_len):
        cand = delta[idx] + pen
        j = cand.argmax(axis=1)
        best = cand[rows, j]
        src = idx[rows, j]
        ex = int(exits[int(delta[exits].argmax())])
        jump = delta[ex] - penalty
        take = jump > best[entries]
        best[entries] = np.where(take, jump, best[entries])
        src[entries] = np.where(take, ex, src[entries])
        back[t] = src
        delta = best + ll[t]
    state = int(exits[int(delta[exits].argmax())])
    path = np.empty(t_len, dtype=np.int64)
    for t in range(t_len - 1, -1, -1):
        path[t] = state
        state = int(back[t, state])
    return path


def node_emissions(model: AcousticModel, ll: FloatArray, graph: Graph) -> tuple[FloatArray, FloatArray]:
    """Emissions of the forced graph's nodes, and the garbage score of every frame."""
    sil = ll[:, model.sil_states()].max(axis=1)
    speech = np.delete(ll, model.sil_states(), axis=1).max(axis=1)
    garbage = speech - float(model.config.get("garbage_penalty", DEFAULT_CONFIG["garbage_penalty"]))
    ext = np.concatenate([ll, sil[:, None], np.maximum(sil, garbage)[:, None], garbage[:, None]], axis=1)
    return ext[:, graph.column], garbage


# --- alignment --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawAlignment:
    """Everything align_text decides from; the training script calibrates on these."""

    spans: list[tuple[int, int, int]]
    """(first frame, first frame of the final, end frame) per syllable."""
    features: FloatArray
    """(syllables, N_FEATURES) presence features: GOP, worst unit's GOP, aligned to its filler,
    share of frames the free loop calls silence, log duration, loudness relative to the
    utterance's loud end."""
    gop: FloatArray
    extra_frames: int
    speech_frames: tuple[int, int]
    has_speech: bool
    n_frames: int


def syllable_unit_lists(
    syllables: Sequence[ExpectedSyllable],
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return [syllable_units(s.initial, s.final) for s in syllables]


def raw_align(
    model: AcousticModel,
    samples: npt.NDArray[np.floating],
    units: Sequence[tuple[Sequence[str], Sequence[str]]],
    *,
    voiced_s: float | None = None,
    dither: bool = True,
) -> RawAlignment:
    """``dither``: one 16-bit step of seeded noise first (``acoustic.dithered``), as at run time;
    training's calibration turns it off to reproduce the committed model."""
    static = acoustic.mfcc_static(acoustic.dithered(samples) if dither else samples)
    x = acoustic.normalise(static)
    db = 10.0 * static[:, 0] / np.log(10.0) - 10.0 * np.log10(acoustic.WIN)
    loud = float(np.percentile(db, 99))
    floor = float(np.percentile(db, 10))
    has_speech = loud - floor >= float(model.config["min_range_db"]) and loud > -65.0
    # A take trimmed tight around the voice has no quiet floor to compare with; voicing (from the
    # pitch tracker, when the caller has it) still tells speech from steady noise.
    if voiced_s is not None and voiced_s >= MIN_VOICED_SPEECH_S and loud > -65.0:
        has_speech = True
    graph = forced_graph(model, units)
    min_len = len(units) + 2
    if x.shape[0] < min_len:  # too short for the text: pad with the quietest frame
        quiet = x[int(np.argmin(x[:, 0]))]
        x = np.concatenate([x, np.repeat(quiet[None, :], min_len - x.shape[0], axis=0)])
        db = np.concatenate([db, np.full(min_len - db.size, float(db.min()))])
    ll = model.log_likelihoods(x)
    emis, garbage = node_emissions(model, ll, graph)
    path, _ = viterbi(emis, graph)
    free = free_loop(model, ll)
    sil_set = model.sil_states()
    free_sil = np.isin(free, sil_set)
    free_ll = ll[np.arange(ll.shape[0]), free]
    forced_ll = emis[np.arange(ll.shape[0]), path]
    syl = graph.syllable[path]
    n = len(units)
    spans: list[tuple[int, int, int]] = []
    feats = np.zeros((n, N_FEATURES))
    gops = np.zeros(n)
    diff = forced_ll - free_ll
    unit = graph.unit[path]
    for i in range(n):
        frames = np.flatnonzero(syl == i)
        a, b = int(frames[0]), int(frames[-1]) + 1
        fin = frames[graph.is_final[path[frames]]]
        f0 = int(fin[0]) if fin.size else a
        spans.append((a, f0, b))
        gop = float(np.mean(diff[a:b]))
        gops[i] = gop
        unit_gops = [float(np.mean(diff[a:b][unit[a:b] == k])) for k in np.unique(unit[a:b])]
        deleted = bool(graph.filler[path[a:b]].any())
        feats[i] = [
            max(gop, -15.0),
            max(min(unit_gops), -20.0) if not deleted else -20.0,
            float(deleted),
            float(free_sil[a:b].mean()),
            float(np.log((b - a) / 10.0)),
            (float(np.mean(db[a:b])) - loud) / 10.0,
        ]
    # Extra speech: edge frames the edge node explained as garbage, in runs of ≥ 150 ms.
    edge = graph.syllable[path] < 0
    is_garbage = edge & (graph.column[path] == model.n_states + EDGE_COL) & (garbage > emis_sil(ll, model))
    extra = int(_long_runs(is_garbage & ~free_sil, 15).sum())
    speech_idx = np.flatnonzero(((syl >= 0) & ~graph.filler[path]) | is_garbage)
    speech = (int(speech_idx[0]), int(speech_idx[-1]) + 1) if speech_idx.size else (0, 0)
    return RawAlignment(spans, feats, gops, extra, speech, has_speech, int(static.shape[0]))


def emis_sil(ll: FloatArray, model: AcousticModel) -> FloatArray:
    return np.asarray(ll[:, model.sil_states()].max(axis=1))


def _long_runs(mask: npt.NDArray[np.bool_], min_len: int) -> npt.NDArray[np.bool_]:
    out = np.zeros_like(mask)
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        if e - s >= min_len:
            out[s:e] = True
    return out


def syllable_llr(model: AcousticModel, feats: FloatArray) -> FloatArray:
    """Per-syllable log-likelihood ratio said vs not said (logistic, fitted with balanced classes)."""
    w = np.asarray(model.config["presence_w"], dtype=np.float64)
    return np.asarray(feats @ w + float(model.config["presence_b"]))


def structured_posteriors(llr: FloatArray, cfg: dict[str, Any]) -> tuple[FloatArray, float, float]:
    """P(said) per syllable under a prior over *which* syllables a learner says.

    Hypotheses: the whole text; nothing of it (another text, or noise); one contiguous block of
    it (stopped early, started late, read one word); the whole text but one contiguous block
    (skipped a word). A scattered pattern (said, missed, said, missed) is not a way people read,
    so chance matches of single syllables in a different sentence do not add up to "said".
    Returns (P(said) per syllable, P(whole text), P(nothing)).
    """
    n = llr.size
    lam = np.clip(llr * float(cfg["tau"]), -30.0, 30.0)
    csum = np.concatenate([[0.0], np.cumsum(lam)])
    total = float(csum[-1])
    scores: list[float] = [total, float(cfg["prior_none"])]
    masks: list[FloatArray] = [np.ones(n), np.zeros(n)]
    idx = np.arange(n)
    for i in range(n):
        for j in range(i + 1, n + 1):
            if i == 0 and j == n:
                continue
            block = float(csum[j] - csum[i])
            inside = ((idx >= i) & (idx < j)).astype(np.float64)
            scores.append(float(cfg["prior_part"]) + block)  # only [i, j) said
            masks.append(inside)
            if i > 0 and j < n:  # [i, j) skipped in the middle
                scores.append(float(cfg["prior_skip"]) + total - block)
                masks.append(1.0 - inside)
    sc = np.asarray(scores)
    post = np.exp(sc - sc.max())
    post /= post.sum()
    said = np.asarray(post @ np.asarray(masks))
    return said, float(post[0]), float(post[1])


def decide(model: AcousticModel, raw: RawAlignment) -> Alignment:
    """Turn a raw alignment into presence probabilities and a status."""
    cfg = model.config
    limit = raw.n_frames
    presence, whole, _ = structured_posteriors(syllable_llr(model, raw.features), cfg)
    extra_s = raw.extra_frames * acoustic.FRAME_S
    if not raw.has_speech:
        presence, whole, extra_s = np.zeros_like(presence), 0.0, 0.0
    said = presence >= PRESENCE_THRESHOLD
    if not raw.has_speech:
        status = STATUS_NO_SPEECH
    elif said.all():
        status = STATUS_EXTRA if extra_s >= float(cfg["extra_min_s"]) else STATUS_OK
    elif said.any():
        status = STATUS_PARTIAL
    else:
        status = STATUS_DIFFERENT

    def t(frame: int) -> float:
        return min(acoustic.frame_time(min(frame, limit)), limit * acoustic.FRAME_S + 0.015)

    sylls = [
        SyllableAlignment(t(a), t(b), t(f), float(p), float(g), bool(s))
        for (a, f, b), p, g, s in zip(raw.spans, presence, raw.gop, said, strict=True)
    ]
    start, end = raw.speech_frames
    return Alignment(sylls, t(start), t(end), float(whole), status, float(extra_s))


def align_text(
    samples: np.ndarray,
    sample_rate: int,
    syllables: Sequence[ExpectedSyllable],
    *,
    voiced_s: float | None = None,
) -> Alignment:
    """Align the expected syllables to a recording (16 kHz mono) and judge what was said."""
    if sample_rate != acoustic.SAMPLE_RATE:
        raise ValueError(f"align_text needs {acoustic.SAMPLE_RATE} Hz audio, got {sample_rate}")
    if not syllables:
        raise ValueError("align_text needs at least one expected syllable")
    model = load_aligner()
    raw = raw_align(model, samples, syllable_unit_lists(syllables), voiced_s=voiced_s)
    return decide(model, raw)
