"""Calibration measures and temperature fitting: expected calibration error, negative log-likelihood, reliability
bins, and the temperature that minimises NLL on (validation) logits.

Probabilities from view logits always go through :func:`bloomwell_ml.inference.average_view_probs`, the function
the worker's :func:`~bloomwell_ml.inference.predict_probs` uses, so a fitted temperature means the same thing there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.optimize import minimize_scalar

from bloomwell_ml.inference import average_view_probs

ECE_BINS = 15
TEMPERATURE_BOUNDS = (0.2, 10.0)


def view_probs(view_logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """``(V, N, K)`` logits → ``(N, K)`` probabilities (each view's softmax at ``temperature``, averaged)."""
    probs: np.ndarray = average_view_probs(torch.from_numpy(np.asarray(view_logits, dtype=np.float32)),
                                           temperature).numpy()
    return probs


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true labels (probabilities clamped at 1e-12)."""
    if len(labels) == 0:
        return float("nan")
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(labels)), np.asarray(labels)]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def reliability_bins(probs: np.ndarray, labels: np.ndarray, n_bins: int = ECE_BINS) -> list[dict[str, Any]]:
    """Equal-width confidence bins over [0, 1] (top-class probability; a bin holds (lo, hi], the first also 0):
    per bin its edges, count, mean confidence and accuracy (None for empty bins)."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(1)
    correct = probs.argmax(1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    out = []
    for b in range(n_bins):
        mask = index == b
        count = int(mask.sum())
        out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "count": count,
                    "confidence": float(conf[mask].mean()) if count else None,
                    "accuracy": float(correct[mask].mean()) if count else None})
    return out


def ece(probs: np.ndarray, labels: np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error: Σ_bins (count / N) · |accuracy − mean confidence| (Guo et al. 2017)."""
    n = len(labels)
    if n == 0:
        return float("nan")
    return float(sum(b["count"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in reliability_bins(probs, labels, n_bins) if b["count"]))


def fit_temperature(view_logits: np.ndarray, labels: np.ndarray,
                    bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The temperature in ``bounds`` minimising the NLL of :func:`view_probs` (a bounded 1-D search, scipy's
    ``minimize_scalar``, on log T: the NLL of a view average is smooth and, in practice, unimodal in T)."""
    logits = torch.from_numpy(np.asarray(view_logits, dtype=np.float32))
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))

    def objective(log_t: float) -> float:
        p = average_view_probs(logits, float(np.exp(log_t)))
        return float(-p[torch.arange(len(y)), y].clamp_min(1e-12).log().mean())

    res = minimize_scalar(objective, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded",
                          options={"xatol": 1e-4})
    return float(np.exp(res.x))


def calibration_summary(probs: np.ndarray, labels: np.ndarray, n_bins: int = ECE_BINS) -> dict[str, Any]:
    """ECE, NLL, mean top-class confidence and the reliability bins of one set."""
    probs = np.asarray(probs)
    return {"ece": ece(probs, labels, n_bins), "nll": nll(probs, labels),
            "mean_confidence": float(probs.max(1).mean()) if len(probs) else float("nan"),
            "reliability": reliability_bins(probs, labels, n_bins)}
