"""The task body (``tasks.process``) in this process, on PostgreSQL and on SQLite, with real Redis events.

This is the code a worker runs for each job, driven directly so that every failure path is cheap to reach;
``test_worker_integration.py`` covers the same through a real Celery worker process.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import MESSAGES
from services.common.db import Base, create_engine
from services.common.events import channel_for
from services.common.result_store import stored_document
from services.inference_worker.config import WorkerSettings
from services.inference_worker.quality import QualityThresholds
from services.inference_worker.runtime import Runtime, build_runtime
from services.inference_worker.tasks import process
from services.inference_worker.webhook import verify
from tests.worker.conftest import WebhookReceiver, shared_video, write_video
from tests.worker.db import create_analysis, delete_analysis, fetch

pytestmark = pytest.mark.integration
SECRET = "in-process-secret"


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def rt(request: pytest.FixtureRequest, database_url: str, redis_url: str, tiny_model_path: Path,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A worker runtime (own event loop, engine, Redis, tiny model, Haar) on either database."""
    root = tmp_path_factory.mktemp("rt")
    url = database_url if request.param == "postgresql" else f"sqlite+aiosqlite:///{root / 'w.db'}"
    settings = WorkerSettings(environment="test", database_url=url, redis_url=redis_url, storage_dir=root / "storage",
                              model_path=tiny_model_path, face_detector="yunet", progress_db_interval_s=0.0,
                              webhook_secret=SECRET, max_crops_kept=8)
    runtime = build_runtime(settings)
    if request.param == "sqlite":
        async def create_all() -> None:
            async with runtime.engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
        runtime.run(create_all())
    yield runtime
    runtime.close()


def run_and_collect(rt: Runtime, analysis_id: uuid.UUID, wait_s: float = 2.0) -> tuple[str, list[dict[str, Any]]]:
    """Run the task body and return its outcome and the progress events it published."""
    client = redis.Redis.from_url(rt.settings.redis_url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel_for(analysis_id))
    try:
        outcome = process(rt, analysis_id)
        events: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:  # None also stands for a skipped subscribe confirmation
            message = pubsub.get_message(timeout=0.1)
            if message is not None:
                events.append(json.loads(message["data"]))
                if events[-1]["status"] in ("succeeded", "failed"):
                    break
        return outcome, events
    finally:
        pubsub.close()
        client.close()


def test_real_video_succeeds_with_events_result_and_crops(rt: Runtime) -> None:
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("fer_test.mp4"), duration_s=4.6))
    upload = rt.storage.upload_path(aid, "mp4")
    outcome, events = run_and_collect(rt, aid)
    assert outcome == "succeeded"
    stages = [e["stage"] for e in events]
    assert stages[0] == "probing" and stages[-1] == "done"
    assert {"analyzing", "summarizing", "saving"} <= set(stages)
    assert events[-1]["status"] == "succeeded" and events[-1]["progress"] == 1.0
    assert all(e["status"] == "processing" for e in events[:-1])
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress)
    analysis, result = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and result is not None
    assert analysis.status == "succeeded" and analysis.video_path is None and analysis.attempts == 1
    assert result.schema_version == 2
    doc = stored_document(result)
    assert doc.summary.frames_with_face > 0 and doc.summary.dominant_emotion == analysis.dominant_emotion
    assert doc.summary.people_count == 1 and doc.people[0].crop is not None
    crops = {f.crop for frame in doc.frames for f in frame.faces if f.crop} | {doc.people[0].crop}
    assert 1 < len(crops) <= 9
    assert {p.name for p in rt.storage.crops_dir(aid).iterdir()} == crops
    assert not upload.exists()


def test_keep_video_keeps_the_upload(rt: Runtime) -> None:
    video = shared_video("huimiang_1543684773_neutral_to_angry.avi")
    aid = rt.run(create_analysis(rt.sessions, rt.storage, video, keep_video=True))
    assert run_and_collect(rt, aid)[0] == "succeeded"
    analysis, _ = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.video_path is not None
    assert rt.storage.resolve(analysis.video_path).is_file()
    assert analysis.duration_s is not None and analysis.duration_s > 0  # probed: the row had none


def test_text_file_fails_as_unreadable_and_leaves_nothing(rt: Runtime, tmp_path: Path) -> None:
    fake = tmp_path / "notes.mp4"
    fake.write_text("definitely not a video\n" * 50)
    aid = rt.run(create_analysis(rt.sessions, rt.storage, fake))
    outcome, events = run_and_collect(rt, aid)
    assert outcome == "failed"
    assert events[-1]["status"] == "failed" and events[-1]["error_code"] == "unreadable_video"
    analysis, result = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and result is None
    assert analysis.error_code == "unreadable_video" and "could not read this video" in (analysis.error or "")
    assert not rt.storage.upload_path(aid, "mp4").exists()
    assert not rt.storage.crops_dir(aid).exists()


def test_missing_upload_fails_with_a_clear_reason(rt: Runtime) -> None:
    aid = rt.run(create_analysis(rt.sessions, video_path="uploads/never-uploaded.mp4"))
    assert run_and_collect(rt, aid)[0] == "failed"
    analysis, _ = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.error_code == "unreadable_video"
    assert "no longer available" in (analysis.error or "")


def test_deleted_analysis_ends_quietly_and_removes_its_files(rt: Runtime) -> None:
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("fer_test.mp4")))
    rt.storage.crops_dir(aid).mkdir(parents=True)
    (rt.storage.crops_dir(aid) / "0_0.jpg").write_bytes(b"stale")
    rt.run(delete_analysis(rt.sessions, aid))
    outcome, events = run_and_collect(rt, aid, wait_s=0.3)
    assert outcome == "deleted" and events == []
    assert not rt.storage.upload_path(aid, "mp4").exists()
    assert not rt.storage.crops_dir(aid).exists()


def test_duplicate_delivery_of_a_finished_job_is_skipped(rt: Runtime) -> None:
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("huimiang_1543684773_neutral_to_angry.avi")))
    assert process(rt, aid) == "succeeded"
    _, first = rt.run(fetch(rt.sessions, aid))
    assert process(rt, aid) == "skipped"
    analysis, again = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.attempts == 1
    assert first is not None and again is not None and again.created_at == first.created_at


def test_a_job_that_keeps_killing_workers_fails_after_max_attempts(rt: Runtime) -> None:
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("faceapijs_test_video.mp4"),
                                 attempts=rt.settings.task_max_attempts))
    assert process(rt, aid) == "failed"
    analysis, _ = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.error_code == "internal" and "repeatedly" in (analysis.error or "")


def test_no_face_fails_with_a_clear_reason_by_default(rt: Runtime, tmp_path: Path) -> None:
    video = write_video(tmp_path / "no-face.mp4", frames=20, fps=10.0)
    aid = rt.run(create_analysis(rt.sessions, rt.storage, video))
    assert process(rt, aid) == "failed"
    analysis, result = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.error_code == "no_face"
    assert "No face was found" in (analysis.error or "")
    assert result is None


def test_no_face_succeeds_empty_when_configured(rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rt.settings, "fail_on_no_face", False)
    video = write_video(tmp_path / "no-face.mp4", frames=20, fps=10.0)
    aid = rt.run(create_analysis(rt.sessions, rt.storage, video))
    assert process(rt, aid) == "succeeded"
    _, result = rt.run(fetch(rt.sessions, aid))
    assert result is not None and result.summary["frames_with_face"] == 0
    assert result.summary["dominant_emotion"] is None


def test_signed_webhook_is_posted_when_the_job_ends(rt: Runtime, webhook_receiver: WebhookReceiver) -> None:
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("huimiang_1543684773_neutral_to_angry.avi"),
                                 webhook_url=webhook_receiver.url))
    assert process(rt, aid) == "succeeded"
    assert len(webhook_receiver.received) == 1
    body, signature = webhook_receiver.received[0]
    assert verify(body, SECRET, signature)
    assert not verify(body, "another-secret", signature)
    payload = json.loads(body)
    assert payload["analysis_id"] == str(aid) and payload["status"] == "succeeded"
    assert payload["event"] == "analysis.succeeded"


def test_analysis_deleted_while_processing_stops_the_job_and_cleans_up(rt: Runtime) -> None:
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("fer_woman2.mp4"), duration_s=15.5))
    deleted = threading.Event()

    def delete_on_first_batch() -> None:
        """Plays the user: deletes the analysis (own connection) once the first batch is being classified."""
        client = redis.Redis.from_url(rt.settings.redis_url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel_for(aid))
        ready.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.1)
            if message and json.loads(message["data"])["stage"] == "analyzing":
                engine = create_engine(rt.settings.database_url)
                asyncio.run(_delete_with(engine, aid))
                deleted.set()
                break
        pubsub.close()
        client.close()

    ready = threading.Event()
    thread = threading.Thread(target=delete_on_first_batch, daemon=True)
    thread.start()
    assert ready.wait(10)
    outcome = process(rt, aid)
    thread.join(10)
    assert deleted.is_set()
    assert outcome == "deleted"
    assert rt.run(fetch(rt.sessions, aid)) == (None, None)
    assert not rt.storage.upload_path(aid, "mp4").exists()
    assert not rt.storage.crops_dir(aid).exists()


async def _delete_with(engine: AsyncEngine, analysis_id: uuid.UUID) -> None:
    try:
        await delete_analysis(async_sessionmaker(engine, expire_on_commit=False), analysis_id)
    finally:
        await engine.dispose()


def test_a_job_past_its_time_limit_stops_between_batches_and_leaves_nothing(rt: Runtime) -> None:
    # The solo pool has no Celery time limits: the task's own deadline ends the job at the next frame batch.
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("fer_test.mp4"), duration_s=4.6))
    assert process(rt, aid, time_limit_s=1e-6) == "failed"
    analysis, result = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.error_code == "timeout" and "too long" in (analysis.error or "")
    assert result is None
    assert not rt.storage.crops_dir(aid).exists()


def test_faces_that_are_never_readable_fail_with_a_reason(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A face found in every frame but never assessable ends as no_assessable_face, saying why."""
    monkeypatch.setattr(rt.settings, "quality", QualityThresholds(min_face_px=10_000))
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("fer_test.mp4"), duration_s=4.6))
    assert process(rt, aid) == "failed"
    analysis, result = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and analysis.error_code == "no_assessable_face" and result is None
    assert "too small" in (analysis.error or "")
    assert not rt.storage.crops_dir(aid).exists()


class NanModel:
    """The shared classifier with a broken output: every probability NaN (as a corrupted model file would give)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.version, self.temperature = inner.name, inner.version, inner.temperature

    def model_image(self, crop: np.ndarray) -> np.ndarray:
        image: np.ndarray = self.inner.model_image(crop)
        return image

    def submit(self, images: np.ndarray) -> Future[np.ndarray]:
        future: Future[np.ndarray] = Future()
        future.set_result(np.full((len(images), len(EMOTIONS)), np.nan, dtype=np.float32))
        return future


def test_an_invalid_result_document_fails_the_job_before_anything_is_stored(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document that does not validate ends the job as invalid_result with its sentence, stores no result and
    leaves no crops (it used to be stored, and fail when read: a 500 on the report, or a database error)."""
    monkeypatch.setattr(rt, "_batching", NanModel(rt.batching_classifier))
    aid = rt.run(create_analysis(rt.sessions, rt.storage, shared_video("fer_test.mp4"), duration_s=4.6))
    outcome, events = run_and_collect(rt, aid)
    assert outcome == "failed"
    assert events[-1]["status"] == "failed" and events[-1]["error_code"] == "invalid_result"
    analysis, result = rt.run(fetch(rt.sessions, aid))
    assert analysis is not None and result is None
    assert analysis.error_code == "invalid_result" and analysis.error == MESSAGES["invalid_result"]
    assert analysis.video_path is None and not rt.storage.crops_dir(aid).exists()
