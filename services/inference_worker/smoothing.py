"""Temporal smoothing of one person's per-frame expression probabilities.

The classifier reads each frame on its own, so its top label flickers between neighbouring expressions from one
frame to the next even when the face does not change. Two smoothers are provided (``bench/bench_smoothing.py``
compares them on the shared videos):

* ``hmm`` (the default): a hidden Markov model whose hidden state is the expression, with a *sticky* transition —
  the chance of leaving an expression between two frames ``dt`` seconds apart is ``1 - exp(-dt / tau)``, spread
  evenly over the other six — and the classifier's calibrated probabilities as evidence (a uniform prior over
  expressions). Forward–backward gives the smoothed probabilities, Viterbi the expression sequence. Frames
  analysed closer together than ``evidence_s`` are not independent readings of the face (they are nearly the same
  picture), so at ``sample_fps`` above ``1 / evidence_s`` each frame's evidence counts for ``1 / (sample_fps ·
  evidence_s)`` of an observation (probabilities raised to that power): a person's timeline does not depend on how
  many frames per second were analysed. At the default 5 frames/s every frame counts fully.
* ``gaussian``: each frame's probabilities averaged with its neighbours' under a Gaussian kernel in time
  (``sigma`` seconds); the expression is the argmax.

A person's frames are smoothed in *chains*: frames more than ``max_gap_s`` apart (the face was not readable in
between) start a new chain, so nothing is carried across a long gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Smoother = Literal["hmm", "gaussian", "none"]
SMOOTHERS: tuple[str, ...] = ("hmm", "gaussian", "none")


@dataclass(frozen=True, slots=True)
class SmoothingOptions:
    """Which smoother and how strongly."""

    method: Smoother = "hmm"
    tau_s: float = 2.0
    """HMM: mean time an expression is expected to last (larger = stickier)."""
    evidence_s: float = 0.2
    """HMM: frames analysed closer together than this share one observation's weight (0: every frame counts
    fully)."""

    def evidence_weight(self, sample_fps: float | None) -> float:
        """The share of one observation each frame's evidence counts for at ``sample_fps`` (1 where unknown)."""
        if not sample_fps or self.evidence_s <= 0:
            return 1.0
        return min(1.0, 1.0 / (sample_fps * self.evidence_s))
    sigma_s: float = 0.6
    """Gaussian: the kernel's standard deviation in seconds."""
    max_gap_s: float = 1.0

    def describe(self) -> str:
        """One line for the result's ``summary.smoothing``."""
        if self.method == "hmm":
            return f"hmm (sticky transitions, tau {self.tau_s:g} s; chains broken by gaps over {self.max_gap_s:g} s)"
        if self.method == "gaussian":
            return f"gaussian (sigma {self.sigma_s:g} s; chains broken by gaps over {self.max_gap_s:g} s)"
        return "none (raw per-frame argmax)"


def chains(times: Sequence[float], max_gap_s: float) -> list[slice]:
    """Slices of consecutive frames whose gaps never exceed ``max_gap_s``."""
    out, start = [], 0
    for i in range(1, len(times)):
        if times[i] - times[i - 1] > max_gap_s + 1e-9:
            out.append(slice(start, i))
            start = i
    if times:
        out.append(slice(start, len(times)))
    return out


def _transitions(dts: np.ndarray, k: int, tau_s: float) -> np.ndarray:
    """(T-1, K, K) row-stochastic transition matrices for the gaps ``dts``."""
    leave = 1.0 - np.exp(-np.maximum(dts, 0.0) / tau_s)
    eye = np.eye(k)
    off = (1.0 - eye) / (k - 1)
    matrices: np.ndarray = (1.0 - leave)[:, None, None] * eye + leave[:, None, None] * off
    return matrices


def hmm_smooth(probs: np.ndarray, times: np.ndarray, tau_s: float,
               evidence_weight: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Forward–backward posteriors (T, K) and the Viterbi path (T,) of one chain; each frame's probabilities count
    for ``evidence_weight`` of an observation."""
    t_len, k = probs.shape
    evidence = np.clip(probs, 1e-6, 1.0)
    if evidence_weight != 1.0:
        evidence = evidence**evidence_weight
    trans = _transitions(np.diff(times), k, tau_s)
    alpha = np.empty_like(evidence)
    alpha[0] = evidence[0] / evidence[0].sum()
    for i in range(1, t_len):
        a = (alpha[i - 1] @ trans[i - 1]) * evidence[i]
        alpha[i] = a / a.sum()
    beta = np.ones_like(evidence)
    for i in range(t_len - 2, -1, -1):
        b = trans[i] @ (evidence[i + 1] * beta[i + 1])
        beta[i] = b / b.sum()
    post = alpha * beta
    post /= post.sum(axis=1, keepdims=True)
    # Viterbi in log space
    log_e, log_t = np.log(evidence), np.log(trans)
    score = log_e[0] - np.log(k)
    back = np.zeros((t_len, k), dtype=np.int64)
    for i in range(1, t_len):
        cand = score[:, None] + log_t[i - 1]
        back[i] = cand.argmax(axis=0)
        score = cand.max(axis=0) + log_e[i]
    path = np.empty(t_len, dtype=np.int64)
    path[-1] = int(score.argmax())
    for i in range(t_len - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return post, path


def gaussian_smooth(probs: np.ndarray, times: np.ndarray, sigma_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Kernel-averaged probabilities (T, K) and their argmax (T,) of one chain."""
    d = times[:, None] - times[None, :]
    w = np.exp(-0.5 * (d / sigma_s) ** 2)
    out = (w @ probs) / w.sum(axis=1, keepdims=True)
    return out, out.argmax(axis=1)


def smooth(probs: np.ndarray, times: Sequence[float], options: SmoothingOptions,
           sample_fps: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed probabilities (T, K) and expression indices (T,) for one person's readable frames in time order,
    analysed at ``sample_fps`` frames per second."""
    probs = np.asarray(probs, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    if len(t) == 0:
        return probs.copy(), np.zeros(0, dtype=np.int64)
    if options.method == "none":
        return probs.copy(), probs.argmax(axis=1)
    out_p, out_i = np.empty_like(probs), np.empty(len(t), dtype=np.int64)
    for part in chains(list(t), options.max_gap_s):
        if options.method == "hmm":
            out_p[part], out_i[part] = hmm_smooth(probs[part], t[part], options.tau_s,
                                                  options.evidence_weight(sample_fps))
        else:
            out_p[part], out_i[part] = gaussian_smooth(probs[part], t[part], options.sigma_s)
    return out_p, out_i
