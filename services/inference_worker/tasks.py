"""The analysis task's body, :func:`analyze_video`: one analysis from queued to succeeded or failed, as
claim → run → finish. ``services.inference_worker.worker`` registers it on the worker's Celery app
(``services.common.celery_app.register_analysis_task``); the gateway queues it with ``AnalysisQueue.enqueue``.

Reliability (with the app-wide ``acks_late``, ``reject_on_worker_lost``, ``prefetch_multiplier=1``):

* transient failures (database or Redis unreachable, SQLite busy) are retried with exponential back-off;
* permanent ones end in ``failed`` with a sentence for the user and an ``error_code`` (a result document that does
  not validate: ``invalid_result``, before anything is stored);
* a job whose deliveries keep killing workers fails after ``TASK_MAX_ATTEMPTS``;
* the result and the final status are written in one transaction (status last);
* an analysis deleted meanwhile ends the job quietly and its files are removed;
* the job's crops folder is owned by one :class:`JobScope`: emptied before a run, removed on every way out but
  success.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import redis
import sqlalchemy.exc
from celery import Task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from pydantic import ValidationError

from services.common.analysis import MESSAGES, ErrorCode, Stage, no_assessable_face_message
from services.common.events import ProgressEvent, publish_progress
from services.common.logs import analysis_context
from services.common.models import AnalysisStatus
from services.common.video import VideoError, probe_video
from services.inference_worker import metrics, persist, pipeline
from services.inference_worker.pipeline import AnalysisOutput, NoFrames
from services.inference_worker.runtime import Runtime, get_runtime
from services.inference_worker.webhook import send_webhook

log = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
    TimeoutError,
)
"""Errors worth retrying: the job itself is fine, a service it needs was briefly unavailable."""


class AnalysisGone(Exception):
    """The analysis row was deleted while the job ran."""


class PermanentFailure(Exception):
    """The job cannot succeed; ``code`` goes to ``error_code``, the message to ``error``."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _publish(rt: Runtime, analysis_id: uuid.UUID, status: AnalysisStatus, progress: float, stage: Stage | None,
             error: str | None = None, error_code: ErrorCode | None = None) -> None:
    """Publish a progress event; a Redis hiccup never fails the job (events are a convenience)."""
    try:
        publish_progress(
            rt.redis,
            ProgressEvent(analysis_id=analysis_id, status=status, progress=round(min(1.0, max(0.0, progress)), 4),
                          stage=stage, error=error, error_code=error_code),
        )
    except redis.exceptions.RedisError as exc:
        log.warning("could not publish progress of %s: %s", analysis_id, exc)


class _Progress:
    """Maps pipeline progress to 0..1, publishes events per batch and writes the DB column sparingly.

    It is also the job's cooperative deadline: past ``time_limit_s`` the pipeline's next per-batch report raises
    ``SoftTimeLimitExceeded``, so pools without Celery time limits (solo, threads) stop long jobs too.
    """

    START, END = 0.05, 0.9

    def __init__(self, rt: Runtime, analysis_id: uuid.UUID, time_limit_s: float | None = None) -> None:
        self.rt = rt
        self.analysis_id = analysis_id
        self.last_db = time.monotonic()
        self.deadline = self.last_db + time_limit_s if time_limit_s else None
        self.timer = metrics.StageTimer()

    def stage(self, stage: Stage, progress: float, *, write_db: bool = False) -> None:
        self.timer.enter(stage)
        _publish(self.rt, self.analysis_id, AnalysisStatus.processing, progress, stage)
        if write_db or time.monotonic() - self.last_db >= self.rt.settings.progress_db_interval_s:
            self.last_db = time.monotonic()
            if not self.rt.run(persist.set_progress(self.rt.sessions, self.analysis_id, progress, stage)):
                raise AnalysisGone

    def __call__(self, stage: Stage, done: int, expected: int) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SoftTimeLimitExceeded
        share = min(1.0, done / max(1, expected))
        self.stage(stage, self.END if stage == Stage.summarizing else self.START + (self.END - self.START) * share)


@dataclass
class JobScope:
    """The files of one run of one job: the crops folder is emptied on entry and removed on any exit but a
    successful one (:meth:`keep`), so no failure path can leave crops behind."""

    crops_dir: Path
    kept: bool = False

    def __enter__(self) -> JobScope:
        shutil.rmtree(self.crops_dir, ignore_errors=True)  # leftovers of an interrupted attempt
        return self

    def keep(self) -> None:
        """The run succeeded: its crops are part of the result."""
        self.kept = True

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.kept:
            shutil.rmtree(self.crops_dir, ignore_errors=True)


def _remove_files(rt: Runtime, analysis_id: uuid.UUID, video: str | None, *, all_files: bool = False) -> None:
    try:
        if all_files:
            rt.storage.delete_analysis_files(analysis_id, video)
        elif video:
            rt.storage.resolve(video).unlink(missing_ok=True)
    except (OSError, ValueError) as exc:
        log.warning("could not remove files of %s: %s", analysis_id, exc)


def _after_end(rt: Runtime, analysis_id: uuid.UUID, ended: persist.Ended | None, error: str | None = None,
               error_code: ErrorCode | None = None) -> str:
    """Delete what the end released, publish the terminal event and call the webhook."""
    if ended is None:
        log.info("analysis %s was deleted while it was processed; cleaning up", analysis_id)
        _remove_files(rt, analysis_id, None, all_files=True)
        return "deleted"
    _remove_files(rt, analysis_id, ended.video_to_delete)
    if ended.status == AnalysisStatus.failed:
        shutil.rmtree(rt.storage.crops_dir(analysis_id), ignore_errors=True)
    succeeded = ended.status == AnalysisStatus.succeeded
    _publish(rt, analysis_id, ended.status, 1.0, Stage.done if succeeded else Stage.failed, error, error_code)
    if ended.webhook_url:
        payload: dict[str, Any] = {
            "event": f"analysis.{ended.status.value}",
            "analysis_id": str(analysis_id),
            "status": ended.status.value,
            "dominant_emotion": ended.dominant_emotion,
            "error": error,
            "error_code": error_code,
            "finished_at": ended.finished_at.isoformat() if ended.finished_at else None,
        }
        send_webhook(ended.webhook_url, payload, rt.settings.webhook_secret, rt.settings.webhook_timeout_s,
                     allow_internal=rt.settings.is_local)
    return ended.status.value


def _fail(rt: Runtime, analysis_id: uuid.UUID, code: ErrorCode, message: str) -> str:
    log.info("analysis %s failed: %s (%s)", analysis_id, message, code)
    metrics.FAILURES.labels(error_code=str(code)).inc()
    ended = rt.run(persist.save_failure(rt.sessions, analysis_id, error=message, error_code=code))
    return _after_end(rt, analysis_id, ended, message, code)


def _run(rt: Runtime, job: persist.Job, progress: _Progress, crops_dir: Path) -> AnalysisOutput:
    """Analyse the job's video; raises :class:`PermanentFailure` for everything the user must be told."""
    if not job.video_path:
        raise PermanentFailure(ErrorCode.unreadable_video, MESSAGES["missing_video"])
    try:
        video = rt.storage.resolve(job.video_path)
    except ValueError as exc:
        raise PermanentFailure(ErrorCode.unreadable_video, MESSAGES["missing_video"]) from exc
    if not video.is_file():
        raise PermanentFailure(ErrorCode.unreadable_video, MESSAGES["missing_video"])
    try:
        classifier, detector = rt.batching_classifier, rt.detector
    except (OSError, ValueError, RuntimeError) as exc:
        log.exception("could not load the emotion model or face detector")
        raise PermanentFailure(ErrorCode.internal, MESSAGES["model"]) from exc
    settings = rt.settings
    try:
        duration_s = job.duration_s or probe_video(video, max_duration_s=settings.max_duration_s).duration_s
        progress.stage(Stage.analyzing, progress.START)
        output = pipeline.analyze_video(video, classifier=classifier, detector=detector,
                                        options=settings.pipeline_options(job.sample_fps), duration_hint_s=duration_s,
                                        crops_dir=crops_dir, on_progress=progress)
    except VideoError as exc:
        raise PermanentFailure(ErrorCode.unreadable_video, MESSAGES["unreadable_video"]) from exc
    except NoFrames as exc:
        raise PermanentFailure(ErrorCode.no_frames, MESSAGES["no_frames"]) from exc
    except ValidationError as exc:
        log.error("analysis %s: the result document is not valid: %s", job.id, exc)
        raise PermanentFailure(ErrorCode.invalid_result, MESSAGES["invalid_result"]) from exc
    summary = output.summary
    if settings.fail_on_no_face and summary.frames_with_face == 0:
        raise PermanentFailure(ErrorCode.no_face, MESSAGES["no_face"])
    if settings.fail_on_no_face and not any(p.assessable_frames for p in output.document.people):
        raise PermanentFailure(ErrorCode.no_assessable_face, no_assessable_face_message(output.unassessable))
    t = output.timings
    metrics.FRAMES.inc(t.frames)
    metrics.FACES.inc(t.faces)
    log.info("analysis %s: %d frames, %d faces, %d people; decode %.2fs detect %.2fs track %.2fs crop %.2fs "
             "classify-wait %.2fs aggregate %.2fs", job.id, t.frames, t.faces, summary.people_count, t.decode,
             t.detect, t.track, t.crop, t.classify, t.aggregate)
    return output


def process(rt: Runtime, analysis_id: uuid.UUID, retries: int = 0, time_limit_s: float | None = None) -> str:
    """Run one analysis end to end — claim, run, finish; returns its final status (or ``deleted`` / ``skipped``).

    Transient errors propagate (the task retries them); everything else ends the job. ``time_limit_s``
    (default: ``TASK_SOFT_TIME_LIMIT_S``) is checked between frame batches.
    """
    job = rt.run(persist.claim(rt.sessions, analysis_id))
    if job is None:
        return _after_end(rt, analysis_id, None)
    if job.status.is_terminal:
        log.info("analysis %s is already %s; duplicate delivery ignored", analysis_id, job.status.value)
        return "skipped"
    if job.attempts > rt.settings.task_max_attempts + retries:
        return _fail(rt, analysis_id, ErrorCode.internal, MESSAGES["attempts"])
    progress = _Progress(rt, analysis_id, time_limit_s or rt.settings.task_soft_time_limit_s)
    with JobScope(rt.storage.crops_dir(analysis_id)) as scope:
        try:
            progress.stage(Stage.probing, 0.0)
            output = _run(rt, job, progress, scope.crops_dir)
            progress.stage(Stage.saving, 0.95)
            ended = rt.run(persist.save_success(rt.sessions, analysis_id, document=output.document,
                                                duration_s=output.duration_s))
            progress.timer.close()
            if ended is not None:
                scope.keep()
            return _after_end(rt, analysis_id, ended)
        except AnalysisGone:
            return _after_end(rt, analysis_id, None)
        except PermanentFailure as exc:
            return _fail(rt, analysis_id, exc.code, exc.message)
        except SoftTimeLimitExceeded:
            return _fail(rt, analysis_id, ErrorCode.timeout, MESSAGES["timeout"])
        except TRANSIENT_ERRORS:
            raise
        except Exception:
            log.exception("analysis %s failed unexpectedly", analysis_id)
            return _fail(rt, analysis_id, ErrorCode.internal, MESSAGES["internal"])
        finally:
            progress.timer.close()


def retry_countdown(retries: int, cap_s: int) -> float:
    """Exponential back-off with jitter: about 1, 2, 4, 8 … seconds, at most ``cap_s``."""
    return min(float(cap_s), 2.0**retries) * random.uniform(0.8, 1.2)


def analyze_video(self: Task[Any, str], analysis_id: str) -> str:
    """The task: analyse the uploaded video of ``analysis_id`` and store its result (see module docstring).
    ``self`` is the bound Celery task (for its retry count and :meth:`~celery.Task.retry`)."""
    try:
        aid = uuid.UUID(str(analysis_id))
    except ValueError:
        log.error("ignoring a task with an invalid analysis id %r", analysis_id)
        metrics.JOBS.labels(outcome="invalid").inc()
        return "invalid"
    with analysis_context(aid), metrics.IN_FLIGHT.track_inprogress(), metrics.JOB_SECONDS.time():
        outcome = "failed"
        try:
            outcome = _analyze(self, aid)
            return outcome
        except Retry:
            outcome = "retried"
            raise
        finally:
            metrics.JOBS.labels(outcome=outcome).inc()


def _analyze(task: Task[Any, str], aid: uuid.UUID) -> str:
    rt = get_runtime()
    retries = int(task.request.retries or 0)
    try:
        return process(rt, aid, retries)
    except TRANSIENT_ERRORS as exc:
        if retries < rt.settings.task_max_retries:
            countdown = retry_countdown(retries, rt.settings.task_retry_backoff_max_s)
            log.warning("analysis %s: transient error (%s); retry %d in %.1fs", aid, exc, retries + 1, countdown)
            raise task.retry(exc=exc, countdown=countdown) from exc
        log.error("analysis %s: giving up after %d retries: %s", aid, retries, exc)
        try:
            _fail(rt, aid, ErrorCode.internal, MESSAGES["internal"])
        except TRANSIENT_ERRORS:
            log.exception("analysis %s: could not even record the failure", aid)
        raise
