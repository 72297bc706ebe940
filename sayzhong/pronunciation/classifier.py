"""Tone classifier: speaker-normalised contour features → P(tone 1..4), numpy only.

Three small networks (one hidden tanh layer, softmax over the four tones) share one feature
layout:

- ``level`` sees the contour in semitones relative to the speaker's reference pitch from a
  speaker profile, divided by the speaker's range, so it knows whether a syllable is high or
  low *for this speaker*;
- ``utterance`` sees the same features, but the reference and range come from the utterance
  itself (median and 5-95 % span of its voiced F0); it is trained on utterances made of 2-5
  recordings, so it has learnt how unreliable such a reference is;
- ``shape`` sees the contour with its own mean removed: it is used when nothing tells how
  high this speaker's voice is (a single syllable without a profile).

Parameters are trained by ``scripts/train_tone_model.py`` and stored in
``model/tone_model.json``; training helpers live here so inference and training share code.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

N_POINTS = 7
NOMINAL_RANGE_ST = 10.0
MIN_VOICED_FRAMES = 4
MODEL_PATH = Path(__file__).with_name("model") / "tone_model.json"
FEATURE_NAMES = [
    *[f"p{i}" for i in range(N_POINTS)],
    "slope",
    "curvature",
    "argmin",
    "argmax",
    "range",
    "end_minus_start",
    "voiced_fraction",
    "voiced_seconds",
    "mean",
    "min",
    "max",
]


def tone_features(
    values_st: FloatArray,
    *,
    ref_st: float,
    range_st: float,
    voiced_fraction: float,
    level: bool,
) -> FloatArray | None:
    """Feature vector for one syllable's voiced F0 values (semitones), or None if too short."""
    v = np.asarray(values_st, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size < MIN_VOICED_FRAMES:
        return None
    if v.size >= 5:  # 3-point median smoothing removes single-frame glitches
        v = np.concatenate([[v[0]], np.median(np.stack([v[:-2], v[1:-1], v[2:]]), axis=0), [v[-1]]])
    scale = max(range_st, 3.0) / NOMINAL_RANGE_ST
    rel = (v - ref_st) / scale
    t = np.linspace(0.0, 1.0, rel.size)
    pts = np.interp(np.linspace(0.0, 1.0, N_POINTS), t, rel)
    a2, _a1, _a0 = np.polyfit(t, rel, 2)
    slope = float(np.polyfit(t, rel, 1)[0])
    mean = float(rel.mean())
    feats = [
        *(pts if level else pts - mean),
        slope,
        float(a2),
        float(np.argmin(rel)) / (rel.size - 1),
        float(np.argmax(rel)) / (rel.size - 1),
        float(rel.max() - rel.min()),
        float(pts[-1] - pts[0]),
        float(voiced_fraction),
        v.size * 0.01,
        mean if level else 0.0,
        float(rel.min()) if level else float(rel.min() - mean),
        float(rel.max()) if level else float(rel.max() - mean),
    ]
    return np.asarray(feats, dtype=np.float64)


@dataclass(frozen=True)
class Network:
    mean: FloatArray
    std: FloatArray
    w1: FloatArray
    b1: FloatArray
    w2: FloatArray
    b2: FloatArray

    def predict_proba(self, x: FloatArray) -> FloatArray:
        x2 = np.atleast_2d(x)
        z = (x2 - self.mean) / self.std
        h = np.tanh(z @ self.w1 + self.b1)
        logits = h @ self.w2 + self.b2
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        return np.asarray(p if np.ndim(x) == 2 else p[0])

    def to_dict(self) -> dict[str, Any]:
        def r(a: FloatArray) -> Any:
            return np.round(a, 5).tolist()

        return {k: r(getattr(self, k)) for k in ("mean", "std", "w1", "b1", "w2", "b2")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Network:
        arrays = {k: np.asarray(d[k], dtype=np.float64) for k in ("mean", "std", "w1", "b1", "w2", "b2")}
        arrays["std"] = np.where(arrays["std"] < 1e-6, 1.0, arrays["std"])
        return cls(**arrays)


KINDS = ("level", "utterance", "shape")


@dataclass(frozen=True)
class ToneModel:
    level: Network
    utterance: Network
    shape: Network
    info: dict[str, Any]

    def predict(self, features: FloatArray, *, kind: str) -> FloatArray:
        """P(tone 1..4) as an array of 4 probabilities, from the network for ``kind``."""
        net: Network = getattr(self, kind) if kind in KINDS else self.shape
        return net.predict_proba(features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "sayzhong-tone-model/2",
            "feature_names": FEATURE_NAMES,
            "n_points": N_POINTS,
            "nominal_range_st": NOMINAL_RANGE_ST,
            "info": self.info,
            **{kind: getattr(self, kind).to_dict() for kind in KINDS},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ToneModel:
        if d.get("format") != "sayzhong-tone-model/2" or d.get("feature_names") != FEATURE_NAMES:
            raise ValueError("tone model file does not match this version of the feature extractor")
        nets = {kind: Network.from_dict(d[kind]) for kind in KINDS}
        return cls(nets["level"], nets["utterance"], nets["shape"], dict(d.get("info", {})))


_load_lock = threading.Lock()


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> ToneModel:
    with _load_lock:
        return ToneModel.from_dict(json.loads(path.read_text(encoding="utf-8")))


# --- training (used by scripts/train_tone_model.py) ------------------------------------------


def train_network(
    x: FloatArray,
    y: npt.NDArray[np.int64],
    *,
    hidden: int = 24,
    epochs: int = 800,
    lr: float = 0.01,
    l2: float = 1e-3,
    seed: int = 0,
) -> Network:
    """Full-batch Adam on softmax cross-entropy; y holds tone indices 0..3."""
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std < 1e-3, 1.0, std)  # constant features (e.g. mean in the shape model)
    z = (x - mean) / std
    n, d = z.shape
    onehot = np.eye(4)[y]
    params = {
        "w1": rng.normal(0, 1 / np.sqrt(d), (d, hidden)),
        "b1": np.zeros(hidden),
        "w2": rng.normal(0, 1 / np.sqrt(hidden), (hidden, 4)),
        "b2": np.zeros(4),
    }
    m = {k: np.zeros_like(v) for k, v in params.items()}
    s = {k: np.zeros_like(v) for k, v in params.items()}
    b1, b2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        h = np.tanh(z @ params["w1"] + params["b1"])
        logits = h @ params["w2"] + params["b2"]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g_logits = (p - onehot) / n
        grads = {
            "w2": h.T @ g_logits + l2 * params["w2"],
            "b2": g_logits.sum(axis=0),
        }
        g_h = (g_logits @ params["w2"].T) * (1 - h * h)
        grads["w1"] = z.T @ g_h + l2 * params["w1"]
        grads["b1"] = g_h.sum(axis=0)
        for k in params:
            m[k] = b1 * m[k] + (1 - b1) * grads[k]
            s[k] = b2 * s[k] + (1 - b2) * grads[k] ** 2
            mh = m[k] / (1 - b1**step)
            sh = s[k] / (1 - b2**step)
            params[k] = params[k] - lr * mh / (np.sqrt(sh) + eps)
    return Network(mean, std, params["w1"], params["b1"], params["w2"], params["b2"])
