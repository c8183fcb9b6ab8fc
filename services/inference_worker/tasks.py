"""The analysis task's body, :func:`analyze_video`: one analysis from queued to succeeded or failed, as four stages
called in order by :func:`process` — **claim** (``persist.claim``) → **run** (:func:`run`: the analysis engine, with
progress reported by ``progress.ProgressReporter``) → **store** (``persist.store``: result or failure, status and the
webhook's outbox row in one transaction) → **notify** (:func:`notify`: files released, the terminal event, the
webhook's first delivery attempt). ``services.inference_worker.worker`` registers it on the worker's Celery app
(``services.common.celery_app.register_analysis_task``); the gateway queues it with ``AnalysisQueue.enqueue``.

Reliability (with the app-wide ``acks_late``, ``reject_on_worker_lost``, ``prefetch_multiplier=1``):

* transient failures (database or Redis unreachable, SQLite busy) are retried with exponential back-off;
* permanent ones end in ``failed`` with a sentence for the user and an ``error_code`` (a result document that does
  not validate: ``invalid_result``, before anything is stored);
* a job whose deliveries keep killing workers fails after ``TASK_MAX_ATTEMPTS``;
* the result and the final status are written in one transaction (status last), with the webhook queued beside them
  (``outbox``: a crash before it is sent delays it, never loses it);
* an analysis deleted meanwhile ends the job quietly and its files are removed;
* the job's crops folder is owned by one :class:`JobScope`: emptied before a run, removed on every way out but
  success.
"""

from __future__ import annotations

import logging
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

from services.common import speed
from services.common.analysis import MESSAGES, ErrorCode, Stage, no_assessable_face_message
from services.common.logs import analysis_context
from services.common.models import AnalysisStatus
from services.common.video import VideoError, probe_video
from services.inference_worker import metrics, outbox, persist, pipeline
from services.inference_worker.outbox import DeliveryPolicy
from services.inference_worker.persist import Failed, Outcome, Succeeded
from services.inference_worker.pipeline import AnalysisOutput, NoFrames
from services.inference_worker.progress import AnalysisGone, ProgressReporter, publish
from services.inference_worker.runtime import Runtime, get_runtime

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


class PermanentFailure(Exception):
    """The job cannot succeed; ``code`` goes to ``error_code``, the message to ``error``."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


def process(rt: Runtime, analysis_id: uuid.UUID, retries: int = 0, time_limit_s: float | None = None) -> str:
    """Run one analysis end to end — claim → run → store → notify; returns its final status (or ``deleted`` /
    ``skipped``).

    Transient errors propagate (the task retries them); everything else ends the job. ``time_limit_s``
    (default: ``TASK_SOFT_TIME_LIMIT_S``) is checked between frame batches.
    """
    job = rt.run(persist.claim(rt.sessions, analysis_id))
    if job is None:
        return notify(rt, analysis_id, None)
    if job.status.is_terminal:
        log.info("analysis %s is already %s; duplicate delivery ignored", analysis_id, job.status.value)
        return "skipped"
    started = time.monotonic()
    reporter = ProgressReporter(rt, analysis_id, time_limit_s or rt.settings.task_soft_time_limit_s,
                                expected_s=expected_s(rt, job.duration_s))
    with JobScope(rt.storage.crops_dir(analysis_id)) as scope:
        try:
            outcome = run(rt, job, reporter, scope.crops_dir, retries)
            ended = store(rt, analysis_id, outcome)
        except AnalysisGone:
            return notify(rt, analysis_id, None)
        finally:
            reporter.timer.close()  # the last stage, saving, ends with the store
        if ended is not None and ended.status == AnalysisStatus.succeeded:
            scope.keep()
            if isinstance(outcome, Succeeded):
                measure_speed(rt, time.monotonic() - started, outcome.duration_s)
    return notify(rt, analysis_id, ended)


def expected_s(rt: Runtime, video_s: float | None) -> float | None:
    """The job's expected processing seconds from the measured speed; None when Redis cannot say (never fatal)."""
    try:
        return speed.expected_processing_s(speed.read(rt.redis), video_s)
    except redis.exceptions.RedisError as exc:
        log.warning("could not read the measured speed: %s", exc)
        return None


def measure_speed(rt: Runtime, processing_s: float, video_s: float) -> None:
    """Add this job's processing seconds per second of video to the moving figure (a Redis hiccup is only logged)."""
    try:
        figure = speed.record(rt.redis, processing_s, video_s)
    except redis.exceptions.RedisError as exc:
        log.warning("could not record the job's speed: %s", exc)
        return
    if figure is not None:
        log.info("speed: %.2f s for %.1f s of video; moving figure %.3f s per video second over %d jobs",
                 processing_s, video_s, figure.seconds_per_video_s, figure.jobs)


def run(rt: Runtime, job: persist.Job, reporter: ProgressReporter, crops_dir: Path, retries: int = 0) -> Outcome:
    """The run stage: the job's outcome — :class:`Succeeded` with its result document, or :class:`Failed` with the
    code and sentence its user reads. Raises ``AnalysisGone`` (deleted meanwhile) and transient errors (the task
    retries them)."""
    if job.attempts > rt.settings.task_max_attempts + retries:
        return Failed(ErrorCode.internal, MESSAGES["attempts"])
    try:
        reporter.stage(Stage.probing, 0.0)
        output = _analyse(rt, job, reporter, crops_dir)
        reporter.stage(Stage.saving, 0.95)
        return Succeeded(output.document, output.duration_s)
    except PermanentFailure as exc:
        return Failed(exc.code, exc.message)
    except SoftTimeLimitExceeded:
        return Failed(ErrorCode.timeout, MESSAGES["timeout"])
    except AnalysisGone:
        raise
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        log.exception("analysis %s failed unexpectedly", job.id)
        return Failed(ErrorCode.internal, MESSAGES["internal"])


def _video_of(rt: Runtime, job: persist.Job) -> Path:
    """The job's uploaded video; :class:`PermanentFailure` when it is gone."""
    try:
        video = rt.storage.resolve(job.video_path) if job.video_path else None
    except ValueError as exc:
        raise PermanentFailure(ErrorCode.unreadable_video, MESSAGES["missing_video"]) from exc
    if video is None or not video.is_file():
        raise PermanentFailure(ErrorCode.unreadable_video, MESSAGES["missing_video"])
    return video


def _analyse(rt: Runtime, job: persist.Job, reporter: ProgressReporter, crops_dir: Path) -> AnalysisOutput:
    """Analyse the job's video; raises :class:`PermanentFailure` for everything the user must be told."""
    video = _video_of(rt, job)
    try:
        classifier, detector = rt.batching_classifier, rt.detector
    except (OSError, ValueError, RuntimeError) as exc:
        log.exception("could not load the emotion model or face detector")
        raise PermanentFailure(ErrorCode.internal, MESSAGES["model"]) from exc
    settings = rt.settings
    try:
        duration_s = job.duration_s or probe_video(video, max_duration_s=settings.max_duration_s).duration_s
        reporter.stage(Stage.analyzing, reporter.START)
        output = pipeline.analyze_video(video, classifier=classifier, detector=detector,
                                        options=settings.pipeline_options(job.sample_fps), duration_hint_s=duration_s,
                                        crops_dir=crops_dir, on_progress=reporter)
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
             "classify-wait %.2fs reid %.2fs aggregate %.2fs", job.id, t.frames, t.faces, summary.people_count,
             t.decode, t.detect, t.track, t.crop, t.classify, t.reid, t.aggregate)
    return output


def store(rt: Runtime, analysis_id: uuid.UUID, outcome: Outcome) -> persist.Ended | None:
    """The store stage (``persist.store``); None when the analysis was deleted meanwhile. A result that cannot be
    written for a reason other than a transient one ends the job as ``internal`` instead."""
    try:
        return rt.run(persist.store(rt.sessions, analysis_id, outcome))
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        if isinstance(outcome, Failed):
            raise
        log.exception("analysis %s: could not store its result", analysis_id)
        return rt.run(persist.store(rt.sessions, analysis_id, Failed(ErrorCode.internal, MESSAGES["internal"])))


def _remove_files(rt: Runtime, analysis_id: uuid.UUID, video: str | None, *, all_files: bool = False) -> None:
    try:
        if all_files:
            rt.storage.delete_analysis_files(analysis_id, video)
        elif video:
            rt.storage.resolve(video).unlink(missing_ok=True)
    except (OSError, ValueError) as exc:
        log.warning("could not remove files of %s: %s", analysis_id, exc)


def notify(rt: Runtime, analysis_id: uuid.UUID, ended: persist.Ended | None) -> str:
    """The notify stage: delete what the end released, publish the terminal event and make the webhook's first
    delivery attempt (the outbox sweeper retries it); returns the final status, or ``deleted``."""
    if ended is None:
        log.info("analysis %s was deleted while it was processed; cleaning up", analysis_id)
        _remove_files(rt, analysis_id, None, all_files=True)
        return "deleted"
    _remove_files(rt, analysis_id, ended.video_to_delete)
    succeeded = ended.status == AnalysisStatus.succeeded
    if not succeeded:
        log.info("analysis %s failed: %s (%s)", analysis_id, ended.error, ended.error_code)
        metrics.FAILURES.labels(error_code=str(ended.error_code)).inc()
        shutil.rmtree(rt.storage.crops_dir(analysis_id), ignore_errors=True)
    publish(rt, analysis_id, ended.status, 1.0, Stage.done if succeeded else Stage.failed, ended.error,
            ended.error_code)
    if ended.delivery_id is not None:
        try:
            rt.run(outbox.deliver(rt.sessions, ended.delivery_id, DeliveryPolicy.for_settings(rt.settings)))
        except Exception:  # the job has ended: its webhook stays in the outbox for the sweeper
            log.exception("analysis %s: first webhook attempt failed; the outbox sweeper will retry it", analysis_id)
    return ended.status.value


def conclude(rt: Runtime, analysis_id: uuid.UUID, outcome: Outcome) -> str:
    """Store and notify an outcome decided outside :func:`process` (the task gave up on a transient error)."""
    return notify(rt, analysis_id, store(rt, analysis_id, outcome))


def retry_countdown(retries: int, cap_s: int) -> float:
    """Exponential back-off with jitter: about 1, 2, 4, 8 … seconds, at most ``cap_s``."""
    return outbox.backoff_s(retries, 1.0, float(cap_s))


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
            conclude(rt, aid, Failed(ErrorCode.internal, MESSAGES["internal"]))
        except TRANSIENT_ERRORS:
            log.exception("analysis %s: could not even record the failure", aid)
        raise
