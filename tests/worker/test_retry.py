"""Transient failures are retried with back-off: the real task, registered as the worker registers it, run eagerly,
against an unreachable database."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from celery import Task

from services.common.celery_app import create_celery_app, register_analysis_task
from services.inference_worker import tasks
from services.inference_worker.config import WorkerSettings
from services.inference_worker.runtime import Runtime, build_runtime
from services.inference_worker.tasks import retry_countdown


@pytest.fixture(scope="module")
def analyze_video_task() -> Task[Any, str]:
    """The analysis task on a worker's app (``services.inference_worker.worker`` does the same)."""
    return register_analysis_task(create_celery_app(WorkerSettings(environment="test")), tasks.analyze_video)


@pytest.fixture
def unreachable_db_runtime(redis_url: str, tmp_path: Path) -> Iterator[Runtime]:
    settings = WorkerSettings(environment="test", database_url="postgresql+asyncpg://postgres@127.0.0.1:9/none",
                              redis_url=redis_url, storage_dir=tmp_path, task_max_retries=2,
                              task_retry_backoff_max_s=1)
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


def test_unreachable_database_is_retried_then_given_up(
    unreachable_db_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    analyze_video_task: Task[Any, str],
) -> None:
    # Run eagerly, Celery re-runs a retried task at once (no countdown): every retry is visible in one call.
    monkeypatch.setattr(tasks, "get_runtime", lambda: unreachable_db_runtime)
    with caplog.at_level(logging.WARNING, logger=tasks.__name__):
        result = analyze_video_task.apply(args=[str(uuid.uuid4())])
    assert result.state == "FAILURE"
    assert isinstance(result.result, ConnectionError)
    messages = [r.getMessage() for r in caplog.records if r.name == tasks.__name__]
    assert sum("transient error" in m for m in messages) == 2
    assert any("giving up after 2 retries" in m for m in messages)


def test_retry_countdown_grows_and_is_capped() -> None:
    delays = [retry_countdown(n, cap_s=30) for n in range(8)]
    assert 0.8 <= delays[0] <= 1.2 and 6.4 <= delays[3] <= 9.6
    assert all(d <= 36 for d in delays)
    assert delays[7] >= 24


def test_invalid_id_is_ignored(analyze_video_task: Task[Any, str]) -> None:
    assert analyze_video_task.apply(args=["nope"]).get() == "invalid"
