"""The "unclear" threshold rule of ``training.unclear_threshold`` (pure logic; the script itself runs the shipped
model over FER2013 test and prints the figures)."""

from __future__ import annotations

import numpy as np

from services.common.analysis import UNCLEAR_BELOW
from training.unclear_threshold import figures, reliability, threshold_from


def test_the_threshold_is_where_accuracy_falls_under_the_target() -> None:
    # top probability 0.3: right 1 time in 4; 0.5: right 2 in 5; 0.7 and 0.9: mostly right
    top = np.array([0.3] * 100 + [0.5] * 100 + [0.7] * 100 + [0.9] * 100)
    correct = np.array(([1] + [0] * 3) * 25 + ([1, 1] + [0] * 3) * 20 + [1] * 70 + [0] * 30 + [1] * 95 + [0] * 5,
                       dtype=bool)
    bins = reliability(top, correct, 0.1)
    assert [b["count"] for b in bins if b["count"]] == [100, 100, 100, 100]
    assert threshold_from(bins, 0.5, 50) == 0.6  # the 0.5–0.6 bin is the highest under 50 %
    assert threshold_from(bins, 0.5, 200) == 0.0  # no bin has enough images to be trusted


def test_figures_say_what_the_threshold_means_on_the_set() -> None:
    probs = np.array([[0.35, 0.65, 0, 0, 0, 0, 0]] * 60 + [[0.9, 0.1, 0, 0, 0, 0, 0]] * 60)
    labels = np.array([0] * 60 + [0] * 60)  # the unsure ones are all wrong, the sure ones right
    out = figures(probs, labels, 0.05, 0.5, 50)
    assert out["threshold"] == 0.7 and out["share_under"] == 0.5
    assert (out["accuracy_under"], out["accuracy_at_or_over"]) == (0.0, 1.0)


def test_the_stored_threshold_is_a_probability() -> None:
    assert 0.0 < UNCLEAR_BELOW < 1.0
