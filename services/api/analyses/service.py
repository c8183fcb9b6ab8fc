"""Analyses business logic; every query is scoped to the calling user."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bloomwell_ml.labels import EMOTIONS
from services.common.models import Analysis, AnalysisResult, User


class AnalysisNotFound(Exception):
    """No analysis with that id belongs to the caller."""


class InvalidCursor(ValueError):
    """A pagination cursor that this API did not issue."""


async def get_owned(session: AsyncSession, user_id: uuid.UUID, analysis_id: uuid.UUID) -> Analysis:
    """The caller's analysis; another user's id is indistinguishable from a missing one."""
    analysis = await session.scalar(select(Analysis).where(Analysis.id == analysis_id, Analysis.user_id == user_id))
    if analysis is None:
        raise AnalysisNotFound(str(analysis_id))
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


def encode_cursor(created_at: datetime, analysis_id: uuid.UUID) -> str:
    """An opaque cursor pointing just after ``(created_at, id)`` in newest-first order."""
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{analysis_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """Inverse of :func:`encode_cursor`."""
    try:
        created, ident = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(created), uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("invalid cursor") from exc


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


async def get_result(session: AsyncSession, analysis_id: uuid.UUID) -> AnalysisResult | None:
    """The stored result of an analysis."""
    return await session.get(AnalysisResult, analysis_id)


CSV_COLUMNS = ["t", "track_id", "face", "x", "y", "w", "h", "assessable", "unassessable_reason", "emotion", *EMOTIONS]


def result_to_csv(frames: list[dict]) -> str:
    """The per-frame timeline as CSV: one row per face, or one empty-face row for a frame without faces.

    ``track_id`` is the person (empty for a face not followed as a person); ``emotion`` and the probabilities are
    the frame's raw classifier output, also for faces that were not assessable (``assessable`` 0).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for frame in frames:
        faces = frame.get("faces") or []
        if not faces:
            writer.writerow([f"{frame['t']:.3f}", *([""] * (len(CSV_COLUMNS) - 1))])
        for index, face in enumerate(faces):
            x, y, w, h = face["box"]
            probabilities = [f"{face['probabilities'].get(label, 0.0):.5f}" for label in EMOTIONS]
            track = face.get("track_id")
            writer.writerow(
                [
                    f"{frame['t']:.3f}",
                    "" if track is None else track,
                    index,
                    x,
                    y,
                    w,
                    h,
                    int(bool(face.get("assessable", True))),
                    face.get("unassessable_reason") or "",
                    face["emotion"],
                    *probabilities,
                ]
            )
    return buffer.getvalue()
