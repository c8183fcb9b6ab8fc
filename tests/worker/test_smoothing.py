"""Temporal smoothing of one person's probabilities: flicker removed, real changes kept, chains at gaps."""

from __future__ import annotations

import numpy as np
import pytest

from services.inference_worker.smoothing import SmoothingOptions, chains, gaussian_smooth, hmm_smooth, smooth

K = 7


def onehotish(indices: list[int], confidence: float = 0.6) -> np.ndarray:
    probs = np.full((len(indices), K), (1 - confidence) / (K - 1))
    probs[np.arange(len(indices)), indices] = confidence
    return probs


def times(n: int, fps: float = 5.0) -> np.ndarray:
    return np.arange(n) / fps


@pytest.mark.parametrize("method", ["hmm", "gaussian"])
def test_single_frame_flicker_is_removed(method: str) -> None:
    labels = [4] * 10 + [3] + [4] * 10  # neutral with one "happy" frame
    _, path = smooth(onehotish(labels), times(len(labels)), SmoothingOptions(method=method))  # type: ignore[arg-type]
    assert set(path.tolist()) == {4}


@pytest.mark.parametrize("method", ["hmm", "gaussian"])
def test_a_sustained_change_is_kept_where_it_happens(method: str) -> None:
    labels = [4] * 10 + [0] * 10  # neutral, then angry for 2 s
    _, path = smooth(onehotish(labels), times(len(labels)), SmoothingOptions(method=method))  # type: ignore[arg-type]
    assert np.count_nonzero(np.diff(path)) == 1
    assert int(np.flatnonzero(np.diff(path))[0]) in (8, 9, 10)


def test_hmm_posteriors_are_distributions_and_viterbi_agrees_on_clear_input() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(K), size=30)
    post, path = hmm_smooth(probs, times(30), tau_s=2.0)
    assert post.shape == (30, K) and np.allclose(post.sum(axis=1), 1.0)
    clear = onehotish([2] * 5, confidence=0.95)
    post, path = hmm_smooth(clear, times(5), tau_s=2.0)
    assert path.tolist() == [2] * 5 and (post.argmax(axis=1) == 2).all()


def test_stickiness_grows_with_tau() -> None:
    labels = [4, 4, 4, 3, 3, 4, 4, 4]  # a 0.4 s excursion
    probs = onehotish(labels, confidence=0.5)
    _, loose = hmm_smooth(probs, times(8), tau_s=0.1)
    _, sticky = hmm_smooth(probs, times(8), tau_s=5.0)
    assert 3 in loose.tolist() and set(sticky.tolist()) == {4}


def test_gaussian_is_a_weighted_average() -> None:
    probs = onehotish([0, 1, 2])
    out, _ = gaussian_smooth(probs, times(3), sigma_s=1e-3)
    assert np.allclose(out, probs)


def test_chains_break_at_long_gaps_and_nothing_is_carried_across() -> None:
    t = [0.0, 0.2, 0.4, 3.0, 3.2]
    assert chains(t, 1.0) == [slice(0, 3), slice(3, 5)]
    probs = onehotish([0, 0, 0, 3, 3])
    _, path = smooth(probs, t, SmoothingOptions(method="hmm", tau_s=100.0))
    assert path.tolist() == [0, 0, 0, 3, 3]


def test_none_is_the_raw_argmax_and_empty_input_is_fine() -> None:
    probs = onehotish([1, 2, 1])
    _, path = smooth(probs, times(3), SmoothingOptions(method="none"))
    assert path.tolist() == [1, 2, 1]
    p, path = smooth(np.zeros((0, K)), [], SmoothingOptions())
    assert p.shape == (0, K) and path.shape == (0,)


def test_frames_closer_than_evidence_s_share_one_observation() -> None:
    """At 5 frames/s every frame counts fully (the timeline is what it was); at 30 frames/s a frame counts for a
    sixth, so six readings of nearly the same picture weigh what one reading at 5 frames/s weighs."""
    options = SmoothingOptions()
    assert options.evidence_weight(5.0) == 1.0 and options.evidence_weight(2.0) == 1.0
    assert options.evidence_weight(None) == 1.0 and SmoothingOptions(evidence_s=0).evidence_weight(30.0) == 1.0
    assert abs(options.evidence_weight(30.0) - 1 / 6) < 1e-12
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(7) * 0.5, size=60)
    t = np.arange(60) / 30.0
    _, expected = hmm_smooth(probs, t, tau_s=2.0, evidence_weight=1 / 6)
    _, got = smooth(probs, list(t), options, sample_fps=30.0)
    assert (got == expected).all()
    _, full = smooth(probs, list(t), options)  # rate unknown: every frame counts fully
    assert (full == hmm_smooth(probs, t, tau_s=2.0)[1]).all()
    assert len(set(got.tolist())) <= len(set(full.tolist()))
