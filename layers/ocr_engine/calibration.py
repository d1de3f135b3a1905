"""Word confidence that means what it says: about N% of words read at confidence N are right.

The decoders' raw confidence (the geometric mean of the characters' probabilities, or the
network's probability of the reading per character) ranks words well but is not a
probability of being right: the network is sure of many words it misreads. A two-number
logistic map on the raw confidence's logit (Platt scaling), fitted on the dev crops by
``python -m model.calibrate`` and stored with the model in ``crnn.json``, makes it one.
The map is monotonic, so it changes no ranking: the surest reading stays the surest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_EPS = 1e-6


def logit(p: float) -> float:
    p = min(max(p, _EPS), 1.0 - _EPS)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class Calibration:
    """calibrated = sigmoid(scale * logit(raw) + shift); the identity is (1, 0)."""

    scale: float = 1.0
    shift: float = 0.0

    @classmethod
    def from_metadata(cls, raw: dict | None) -> Calibration:
        if not raw:
            return cls()
        return cls(float(raw["scale"]), float(raw["shift"]))

    def __call__(self, confidence: float) -> float:
        if confidence <= 0.0:
            return 0.0  # nothing read stays nothing
        z = self.scale * logit(confidence) + self.shift
        return 1.0 / (1.0 + math.exp(-z)) if z > -50 else 0.0


def fit_platt(raw: np.ndarray, correct: np.ndarray, steps: int = 50) -> Calibration:
    """Logistic regression of ``correct`` on logit(raw), by Newton's method (two parameters)
    with a backtracking line search: a full Newton step from the identity can overshoot and
    diverge on confident readings with a sure-but-wrong tail."""
    x = np.array([logit(float(c)) for c in raw])
    y = correct.astype(float)
    features = np.stack([x, np.ones_like(x)], axis=1)

    def loss(w: np.ndarray) -> float:  # negative log-likelihood
        z = features @ w
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    w = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(features @ w)))
        grad = features.T @ (p - y)
        hess = features.T @ (features * (p * (1 - p))[:, None]) + 1e-6 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        t, before = 1.0, loss(w)
        while loss(w - t * step) > before and t > 1e-8:
            t /= 2
        w -= t * step
        if np.abs(t * step).max() < 1e-8:
            break
    return Calibration(scale=float(w[0]), shift=float(w[1]))
