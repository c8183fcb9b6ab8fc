"""ProgressReporter: a job's progress events at each new stage, and within a stage at most one per
``PROGRESS_EVENT_INTERVAL_S`` (at every frame a batch of frames lasts a few dozen milliseconds)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from services.common.analysis import Stage
from services.inference_worker import progress
from services.inference_worker.config import WorkerSettings
from services.inference_worker.progress import ProgressReporter


class Clock:
    """``time.monotonic`` of the progress module, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reporter(monkeypatch: pytest.MonkeyPatch, interval_s: float) -> tuple[ProgressReporter, Clock, list[Any]]:
    clock = Clock()
    published: list[Any] = []
    monkeypatch.setattr(progress.time, "monotonic", clock)
    monkeypatch.setattr(progress, "publish",
                        lambda rt, aid, status, value, stage, **kw: published.append((stage, value)))
    settings = WorkerSettings(progress_event_interval_s=interval_s, progress_db_interval_s=3600.0)
    rt: Any = SimpleNamespace(settings=settings)
    return ProgressReporter(rt, uuid.uuid4()), clock, published


def test_batches_within_the_interval_publish_one_event(monkeypatch: pytest.MonkeyPatch) -> None:
    report, clock, published = reporter(monkeypatch, 0.25)
    report.stage(Stage.probing, 0.0)
    for done in range(1, 11):  # ten batches 40 ms apart: 0.4 s of analysing
        clock.now += 0.04
        report(Stage.analyzing, done * 16, 160)
    clock.now += 0.01
    report(Stage.summarizing, 160, 160)
    stages = [stage for stage, _ in published]
    assert stages == [Stage.probing, Stage.analyzing, Stage.analyzing, Stage.summarizing]
    values = [value for _, value in published]
    assert values == sorted(values)
    assert values[1] == pytest.approx(ProgressReporter.START + (ProgressReporter.END - ProgressReporter.START) * 0.1)


def test_interval_zero_publishes_every_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    report, clock, published = reporter(monkeypatch, 0.0)
    for done in range(1, 6):
        clock.now += 0.001
        report(Stage.analyzing, done, 5)
    assert len(published) == 5


def test_a_long_batch_is_published_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    report, clock, published = reporter(monkeypatch, 0.25)
    report(Stage.analyzing, 1, 3)
    clock.now += 1.0  # a slow batch (5 frames/s, a large video): its report goes out
    report(Stage.analyzing, 2, 3)
    assert len(published) == 2
