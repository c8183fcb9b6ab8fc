"""The Celery task ``bloomwell.analyze_video``: one analysis from queued to succeeded or failed.

Reliability (with the app-wide ``acks_late``, ``reject_on_worker_lost``, ``prefetch_multiplier=1``):

* transient failures (database or Redis unreachable, SQLite busy) are retried with exponential back-off;
* permanent ones end in ``failed`` with a sentence for the user and an ``error_code``;
* a job whose deliveries keep killing workers fails after ``TASK_MAX_ATTEMPTS``;
* the result and the final status are written in one transaction (status last);
* an analysis deleted meanwhile ends the job quietly and its files are removed.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
import uuid
from typing import Any

import redis
import sqlalchemy.exc
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded

from services.common.celery_app import ANALYZE_TASK, celery_app
from services.common.events import ProgressEvent, publish_progress
from services.common.models import AnalysisStatus
from services.common.video import VideoError, probe_video
from services.inference_worker import persist
from services.inference_worker.pipeline import NoFrames, PipelineOptions, analyze_video
from services.inference_worker.runtime import Runtime, get_runtime
from services.inference_worker.webhook import send_webhook

log = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
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

MESSAGES = {
    "unreadable_video": "We could not read this video. The file may be damaged or use an unsupported codec.",
    "missing_video": "The uploaded video is no longer available, so it could not be analysed. Please upload it again.",
    "no_frames": "The video contains no frames that could be decoded.",
    "no_face": "No face was found in this video. Please record with your face clearly visible and well lit.",
    "timeout": "The analysis took too long and was stopped. Please try a shorter video.",
    "attempts": "The analysis failed repeatedly on our side and was stopped. Please try again later.",
    "internal": "Something went wrong on our side while analysing this video. Please try again later.",
    "model": "The emotion model is not available on the server. Please try again later.",
}


class AnalysisGone(Exception):
    """The analysis row was deleted while the job ran."""


class PermanentFailure(Exception):
    """The job cannot succeed; ``code`` goes to ``error_code``, the message to ``error``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _publish(rt: Runtime, analysis_id: uuid.UUID, status: AnalysisStatus, progress: float, stage: str | None,
             error: str | None = None, error_code: str | None = None) -> None:
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
    ``SoftTimeLimitExceeded``, so the solo pool (which has no Celery time limits) stops long jobs too.
    """

    START, END = 0.05, 0.9

    def __init__(self, rt: Runtime, analysis_id: uuid.UUID, time_limit_s: float | None = None) -> None:
        self.rt = rt
        self.analysis_id = analysis_id
        self.last_db = time.monotonic()
        self.deadline = self.last_db + time_limit_s if time_limit_s else None

    def stage(self, stage: str, progress: float, *, write_db: bool = False) -> None:
        _publish(self.rt, self.analysis_id, AnalysisStatus.processing, progress, stage)
        if write_db or time.monotonic() - self.last_db >= self.rt.settings.progress_db_interval_s:
            self.last_db = time.monotonic()
            if not self.rt.run(persist.set_progress(self.rt.sessions, self.analysis_id, progress, stage)):
                raise AnalysisGone

    def __call__(self, stage: str, done: int, expected: int) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SoftTimeLimitExceeded
        self.stage(stage, self.START + (self.END - self.START) * min(1.0, done / max(1, expected)))


def _remove_files(rt: Runtime, analysis_id: uuid.UUID, video: str | None, *, all_files: bool = False) -> None:
    try:
        if all_files:
            rt.storage.delete_analysis_files(analysis_id, video)
        elif video:
            rt.storage.resolve(video).unlink(missing_ok=True)
    except (OSError, ValueError) as exc:
        log.warning("could not remove files of %s: %s", analysis_id, exc)


def _after_end(rt: Runtime, analysis_id: uuid.UUID, ended: persist.Ended | None, error: str | None = None,
               error_code: str | None = None) -> str:
    """Delete what the end released, publish the terminal event and call the webhook."""
    if ended is None:
        log.info("analysis %s was deleted while it was processed; cleaning up", analysis_id)
        _remove_files(rt, analysis_id, None, all_files=True)
        return "deleted"
    _remove_files(rt, analysis_id, ended.video_to_delete)
    if ended.status == AnalysisStatus.failed:
        shutil.rmtree(rt.storage.crops_dir(analysis_id), ignore_errors=True)
    _publish(rt, analysis_id, ended.status, 1.0, "done" if ended.status == AnalysisStatus.succeeded else "failed",
             error, error_code)
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


def _fail(rt: Runtime, analysis_id: uuid.UUID, code: str, message: str) -> str:
    log.info("analysis %s failed: %s (%s)", analysis_id, message, code)
    ended = rt.run(persist.save_failure(rt.sessions, analysis_id, error=message, error_code=code))
    return _after_end(rt, analysis_id, ended, message, code)


def process(rt: Runtime, analysis_id: uuid.UUID, retries: int = 0, time_limit_s: float | None = None) -> str:
    """Run one analysis end to end; returns its final status (or ``deleted`` / ``skipped``).

    Transient errors propagate (the task retries them); everything else ends the job. ``time_limit_s``
    (default: the Celery soft time limit) is checked between frame batches.
    """
    if time_limit_s is None:
        time_limit_s = celery_app.conf.task_soft_time_limit
    job = rt.run(persist.claim(rt.sessions, analysis_id))
    if job is None:
        return _after_end(rt, analysis_id, None)
    if job.status.is_terminal:
        log.info("analysis %s is already %s; duplicate delivery ignored", analysis_id, job.status.value)
        return "skipped"
    if job.attempts > rt.settings.task_max_attempts + retries:
        return _fail(rt, analysis_id, "internal", MESSAGES["attempts"])
    progress = _Progress(rt, analysis_id, time_limit_s)
    crops_dir = rt.storage.crops_dir(analysis_id)
    try:
        progress.stage("probing", 0.0)
        if not job.video_path:
            raise PermanentFailure("unreadable_video", MESSAGES["missing_video"])
        try:
            video = rt.storage.resolve(job.video_path)
        except ValueError as exc:
            raise PermanentFailure("unreadable_video", MESSAGES["missing_video"]) from exc
        if not video.is_file():
            raise PermanentFailure("unreadable_video", MESSAGES["missing_video"])
        try:
            classifier, detector = rt.classifier, rt.detector
        except (OSError, ValueError, RuntimeError) as exc:
            log.exception("could not load the emotion model or face detector")
            raise PermanentFailure("internal", MESSAGES["model"]) from exc
        duration_s = job.duration_s
        if duration_s is None:
            try:
                duration_s = probe_video(video, max_duration_s=rt.settings.max_duration_s).duration_s
            except VideoError as exc:
                raise PermanentFailure("unreadable_video", MESSAGES["unreadable_video"]) from exc
        shutil.rmtree(crops_dir, ignore_errors=True)  # leftovers of an interrupted attempt
        s = rt.settings
        options = PipelineOptions(
            sample_fps=s.clamp_sample_fps(job.sample_fps),
            max_duration_s=s.max_duration_s,
            frame_batch_size=s.frame_batch_size,
            crop_margin=s.crop_margin,
            saved_crop_margin=s.saved_crop_margin,
            max_crops=s.max_crops_kept,
            jpeg_quality=s.crop_jpeg_quality,
            sustained_negative_s=s.sustained_negative_s,
        )
        progress.stage("detecting", progress.START)
        try:
            output = analyze_video(video, classifier=classifier, detector=detector, options=options,
                                   duration_hint_s=duration_s, crops_dir=crops_dir, on_progress=progress)
        except VideoError as exc:
            raise PermanentFailure("unreadable_video", MESSAGES["unreadable_video"]) from exc
        except NoFrames as exc:
            raise PermanentFailure("no_frames", MESSAGES["no_frames"]) from exc
        if output.summary["frames_with_face"] == 0 and s.fail_on_no_face:
            raise PermanentFailure("no_face", MESSAGES["no_face"])
        t = output.timings
        log.info("analysis %s: %d frames, %d faces; decode %.2fs detect %.2fs classify %.2fs",
                 analysis_id, t.frames, t.faces, t.decode, t.detect, t.classify)
        progress.stage("saving", 0.95)
        ended = rt.run(persist.save_success(rt.sessions, analysis_id, summary=output.summary,
                                            frames=output.frames, duration_s=output.duration_s))
        return _after_end(rt, analysis_id, ended)
    except AnalysisGone:
        return _after_end(rt, analysis_id, None)
    except PermanentFailure as exc:
        return _fail(rt, analysis_id, exc.code, exc.message)
    except TRANSIENT_ERRORS:
        shutil.rmtree(crops_dir, ignore_errors=True)
        raise
    except SoftTimeLimitExceeded:
        shutil.rmtree(crops_dir, ignore_errors=True)
        return _fail(rt, analysis_id, "internal", MESSAGES["timeout"])
    except Exception:
        log.exception("analysis %s failed unexpectedly", analysis_id)
        shutil.rmtree(crops_dir, ignore_errors=True)
        return _fail(rt, analysis_id, "internal", MESSAGES["internal"])


def retry_countdown(retries: int, cap_s: int) -> float:
    """Exponential back-off with jitter: about 1, 2, 4, 8 … seconds, at most ``cap_s``."""
    return min(float(cap_s), 2.0**retries) * random.uniform(0.8, 1.2)


@celery_app.task(name=ANALYZE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def analyze_video_task(self: Task, analysis_id: str) -> str:
    """Analyse the uploaded video of ``analysis_id`` and store its result (see module docstring)."""
    try:
        aid = uuid.UUID(str(analysis_id))
    except ValueError:
        log.error("ignoring a task with an invalid analysis id %r", analysis_id)
        return "invalid"
    rt = get_runtime()
    retries = int(self.request.retries or 0)
    try:
        return process(rt, aid, retries)
    except TRANSIENT_ERRORS as exc:
        if retries < rt.settings.task_max_retries:
            countdown = retry_countdown(retries, rt.settings.task_retry_backoff_max_s)
            log.warning("analysis %s: transient error (%s); retry %d in %.1fs", aid, exc, retries + 1, countdown)
            raise self.retry(exc=exc, countdown=countdown) from exc
        log.error("analysis %s: giving up after %d retries: %s", aid, retries, exc)
        try:
            _fail(rt, aid, "internal", MESSAGES["internal"])
        except TRANSIENT_ERRORS:
            log.exception("analysis %s: could not even record the failure", aid)
        raise
