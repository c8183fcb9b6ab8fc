"""Analyses business logic; every query is scoped to the calling user. Refusals are the domain errors of
:mod:`services.api.analyses.errors` (the HTTP edge maps them: ``services.api.errors``)."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from anyio import to_thread
from pydantic import AnyHttpUrl
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bloomwell_ml.labels import EMOTIONS
from services.api.analyses.errors import (
    AccountGone,
    AnalysisFailed,
    AnalysisNotFinished,
    AnalysisNotFound,
    IdempotencyConflict,
    InvalidCursor,
    QueueUnavailable,
)
from services.api.analyses.upload import FrameLimits, StoredUpload, check_webhook_url, store_and_check
from services.api.config import ApiSettings
from services.common.celery_app import AnalysisQueue
from services.common.models import Analysis, AnalysisResult, AnalysisStatus, User
from services.common.result_store import stored_document
from services.common.schemas import FrameResult, ResultDocument
from services.common.security.sanitize import strip_control
from services.common.storage import Storage

log = logging.getLogger("bloomwell.api")


async def get_owned(session: AsyncSession, user_id: uuid.UUID, analysis_id: uuid.UUID) -> Analysis:
    """The caller's analysis; another user's id is indistinguishable from a missing one."""
    analysis = await session.scalar(select(Analysis).where(Analysis.id == analysis_id, Analysis.user_id == user_id))
    if analysis is None:
        raise AnalysisNotFound
    return analysis


async def find_by_idempotency_key(session: AsyncSession, user_id: uuid.UUID, key: str) -> Analysis | None:
    """The caller's analysis created with ``Idempotency-Key: key``, if any."""
    return await session.scalar(select(Analysis).where(Analysis.user_id == user_id, Analysis.idempotency_key == key))


async def user_exists(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """True while the account exists (a token can outlive a deleted account by a few minutes)."""
    return await session.scalar(select(User.id).where(User.id == user_id)) is not None


async def insert_analysis(session: AsyncSession, analysis: Analysis) -> Analysis | None:
    """Insert a queued analysis. Returns None when a concurrent request took the same idempotency key."""
    session.add(analysis)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        return None
    return analysis


async def delete_analysis(session: AsyncSession, analysis: Analysis) -> None:
    """Delete the analysis row and its result (cascade)."""
    await session.delete(analysis)
    await session.commit()


@dataclass(frozen=True)
class Upload:
    """A video upload as the route received it (client strings not yet cleaned)."""

    user_id: uuid.UUID
    file: BinaryIO
    filename: str | None
    content_type: str | None
    sample_fps: float | None = None
    keep_video: bool = False
    webhook_url: AnyHttpUrl | None = None
    idempotency_key: str | None = None


async def accept_upload(
    session: AsyncSession, storage: Storage, queue: AnalysisQueue, settings: ApiSettings, upload: Upload
) -> Analysis:
    """Store, check and queue an uploaded video; returns its queued analysis (or, for a repeated
    ``Idempotency-Key``, the analysis that key created).

    The video goes to a temporary name, is checked, and is published under its final name only after the row is
    committed; then the job is queued. On any failure (including the client going away) nothing is left: the file
    is removed and a committed row taken back.
    """
    key = strip_control(upload.idempotency_key) if upload.idempotency_key else None
    if key and (existing := await find_by_idempotency_key(session, upload.user_id, key)):
        return existing
    if not await user_exists(session, upload.user_id):
        raise AccountGone
    webhook = check_webhook_url(upload.webhook_url, allow_internal=settings.is_local)
    analysis, created = await _commit_upload(session, storage, settings, upload, key, webhook)
    if created:
        await _enqueue(session, storage, queue, analysis)
    return analysis


async def _commit_upload(session: AsyncSession, storage: Storage, settings: ApiSettings, upload: Upload,
                         key: str | None, webhook: str | None) -> tuple[Analysis, bool]:
    """The checked video committed as a queued analysis and published; (analysis, True). When a concurrent
    request took the same idempotency key first: (its analysis, False)."""
    analysis_id = uuid.uuid4()
    incoming = storage.incoming_path(analysis_id)
    frames = FrameLimits(max_pixels=settings.max_frame_pixels, min_side_px=settings.min_frame_side_px)
    committed: Analysis | None = None
    try:
        stored = await to_thread.run_sync(
            store_and_check, upload.file, incoming, settings.max_upload_bytes, settings.max_duration_s, frames
        )
        final = storage.upload_path(analysis_id, stored.container)
        committed = await insert_analysis(session, _new_analysis(analysis_id, upload, stored, storage.relative(final),
                                                                 settings, key, webhook))
        if committed is None:
            incoming.unlink(missing_ok=True)
            return await _taken_by(session, upload.user_id, key), False
        await to_thread.run_sync(storage.publish, incoming, final)
    except BaseException:
        incoming.unlink(missing_ok=True)
        if committed is not None:  # committed but not published: take the row back, leave nothing behind
            await forget_upload(session, storage, committed)
        raise
    return committed, True


def _new_analysis(analysis_id: uuid.UUID, upload: Upload, stored: StoredUpload, video_path: str,
                  settings: ApiSettings, key: str | None, webhook: str | None) -> Analysis:
    filename = strip_control(upload.filename or "").strip() or f"video.{stored.container}"
    return Analysis(
        id=analysis_id,
        user_id=upload.user_id,
        status=AnalysisStatus.queued,
        filename=filename[-255:],
        content_type=strip_control(upload.content_type)[:100] if upload.content_type else None,
        container=stored.container,
        size_bytes=stored.size_bytes,
        duration_s=stored.info.duration_s,
        sample_fps=upload.sample_fps or settings.default_sample_fps,
        keep_video=upload.keep_video,
        video_path=video_path,
        webhook_url=webhook,
        idempotency_key=key,
    )


async def _taken_by(session: AsyncSession, user_id: uuid.UUID, key: str | None) -> Analysis:
    """The analysis of the concurrent request that took idempotency ``key``."""
    existing = await find_by_idempotency_key(session, user_id, key or "")
    if existing is None:
        raise IdempotencyConflict
    return existing


async def _enqueue(session: AsyncSession, storage: Storage, queue: AnalysisQueue, analysis: Analysis) -> None:
    """Queue the committed analysis; if the queue refuses, take the upload back and raise :class:`QueueUnavailable`."""
    try:
        await to_thread.run_sync(queue.enqueue, analysis.id)
    except Exception as exc:
        log.exception("could not enqueue analysis %s", analysis.id)
        await forget_upload(session, storage, analysis)
        raise QueueUnavailable from exc


async def forget_upload(session: AsyncSession, storage: Storage, analysis: Analysis) -> None:
    """Delete a just-created analysis and its files (an upload that could not be completed)."""
    try:
        await session.rollback()
        await delete_analysis(session, analysis)
    finally:
        await to_thread.run_sync(storage.delete_analysis_files, analysis.id, analysis.video_path)


def encode_cursor(created_at: datetime, analysis_id: uuid.UUID) -> str:
    """An opaque cursor pointing just after ``(created_at, id)`` in newest-first order."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{analysis_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Inverse of :func:`encode_cursor`."""
    try:
        created, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor from exc


@dataclass(frozen=True)
class ListExtras:
    """What the history shows of a finished analysis's result: the primary person's crop and negative share."""

    crop: str | None = None
    negative_share: float | None = None


def list_extras(summary: dict[str, Any] | None, people: list[dict[str, Any]] | None) -> ListExtras:
    """The primary person's representative crop (version-2 results only) and negative share from a stored result."""
    if not summary:
        return ListExtras()
    indicators = summary.get("indicators")
    share = indicators.get("negative_share") if isinstance(indicators, dict) else None
    primary = summary.get("primary_track_id")
    crop = next((p.get("crop") for p in people or [] if primary is not None and p.get("track_id") == primary), None)
    return ListExtras(
        crop=crop if isinstance(crop, str) else None,
        negative_share=float(share) if isinstance(share, int | float) else None,
    )


async def list_page(
    session: AsyncSession, user_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[tuple[Analysis, ListExtras]], str | None]:
    """One page of the caller's analyses, newest first, each with its result's ``ListExtras`` (one query, the
    result's summary and people joined; not its frames), and the cursor of the next page."""
    query = (
        select(Analysis, AnalysisResult.summary, AnalysisResult.people)
        .outerjoin(AnalysisResult, AnalysisResult.analysis_id == Analysis.id)
        .where(Analysis.user_id == user_id)
    )
    if cursor:
        created_at, ident = decode_cursor(cursor)
        query = query.where(
            or_(Analysis.created_at < created_at, and_(Analysis.created_at == created_at, Analysis.id < ident))
        )
    result = await session.execute(query.order_by(Analysis.created_at.desc(), Analysis.id.desc()).limit(limit + 1))
    rows = [(row[0], list_extras(row[1], row[2])) for row in result]
    last = rows[limit - 1][0] if len(rows) > limit else None
    next_cursor = encode_cursor(last.created_at, last.id) if last is not None else None
    return rows[:limit], next_cursor


async def list_files_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[tuple[uuid.UUID, str | None]]:
    """(analysis id, stored video path) of every analysis the user owns, for deleting files."""
    rows = await session.execute(select(Analysis.id, Analysis.video_path).where(Analysis.user_id == user_id))
    return [(row[0], row[1]) for row in rows]


async def succeeded_result(session: AsyncSession, user_id: uuid.UUID, analysis_id: uuid.UUID) -> ResultDocument:
    """The result document of the caller's succeeded analysis (a version-1 row upgraded); refused while the
    analysis is unfinished or when it failed."""
    analysis = await get_owned(session, user_id, analysis_id)
    if analysis.status == AnalysisStatus.failed:
        raise AnalysisFailed(analysis.error)
    if analysis.status != AnalysisStatus.succeeded:
        raise AnalysisNotFinished(analysis.status.value)
    result = await session.get(AnalysisResult, analysis_id)
    assert result is not None, "the worker writes the result and the status in one transaction"
    return stored_document(result)


CSV_COLUMNS = [
    "t", "span_s", "track_id", "face", "x", "y", "w", "h", "assessable", "unassessable_reason", "emotion", *EMOTIONS,
]


def result_to_csv(frames: list[FrameResult]) -> str:
    """The per-frame timeline as CSV: one row per face, or one empty-face row for a frame without faces.

    ``span_s`` is the seconds of video the frame stands for: a person's seen/readable seconds of the JSON document
    are the sums of ``span_s`` over their rows (assessable 1 for readable). ``track_id`` is the person (empty for a
    face not followed as a person); ``emotion`` is the frame's raw top label, empty for a face that was not
    assessable (``assessable`` 0: never labelled); the probabilities are the classifier's raw output.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for frame in frames:
        if not frame.faces:
            writer.writerow([f"{frame.t:.3f}", f"{frame.span_s:.3f}", *([""] * (len(CSV_COLUMNS) - 2))])
        for index, face in enumerate(frame.faces):
            x, y, w, h = face.box
            probabilities = [f"{face.probabilities.get(label, 0.0):.5f}" for label in EMOTIONS]
            writer.writerow(
                [
                    f"{frame.t:.3f}",
                    f"{frame.span_s:.3f}",
                    "" if face.track_id is None else face.track_id,
                    index,
                    x,
                    y,
                    w,
                    h,
                    int(face.assessable),
                    face.unassessable_reason or "",
                    face.emotion or "",
                    *probabilities,
                ]
            )
    return buffer.getvalue()
