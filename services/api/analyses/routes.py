"""``/v1/analyses`` routes (thin: checks in ``upload``, logic in ``service``)."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import AnyHttpUrl
from sqlalchemy.ext.asyncio import AsyncSession

from services.api import messages
from services.api.analyses import service
from services.api.analyses.face_check import face_check_config
from services.api.analyses.schemas import AnalysisCreated, AnalysisListItem, AnalysisOut, AnalysisPage, PublicConfig
from services.api.analyses.upload import ACCEPTED_EXTENSIONS, ACCEPTED_MIME_TYPES, FrameLimits, store_and_check
from services.api.analyses.webhooks import check_webhook_url
from services.api.deps import CurrentUserId, SessionDep, SettingsDep, StorageDep
from services.common.analysis import GAP_PHRASES, MAX_SAMPLE_FPS, MIN_SAMPLE_FPS
from services.common.models import Analysis, AnalysisStatus
from services.common.result_upgrade import result_document
from services.common.schemas import AnalysisResultOut
from services.common.security.sanitize import strip_control
from services.common.storage import Storage

logger = logging.getLogger("bloomwell.api")


router = APIRouter(prefix="/v1", tags=["analyses"])

NOT_FOUND = HTTPException(status.HTTP_404_NOT_FOUND, detail=messages.ANALYSIS_NOT_FOUND)


@router.get("/config", response_model=PublicConfig)
async def public_config(settings: SettingsDep) -> PublicConfig:
    """Upload limits, accepted formats and the worker's face-quality thresholds (no authentication needed)."""
    return PublicConfig(
        max_upload_bytes=settings.max_upload_bytes,
        max_duration_s=settings.max_duration_s,
        min_record_s=settings.min_record_s,
        max_record_s=settings.max_record_s,
        accepted_extensions=sorted(ACCEPTED_EXTENSIONS),
        accepted_mime_types=ACCEPTED_MIME_TYPES,
        default_sample_fps=settings.default_sample_fps,
        min_sample_fps=MIN_SAMPLE_FPS,
        max_sample_fps=MAX_SAMPLE_FPS,
        gap_phrases=GAP_PHRASES,
        face_check=face_check_config(settings.quality),
    )


def _accepted(response: Response, analysis: Analysis) -> AnalysisCreated:
    response.headers["Location"] = f"/v1/analyses/{analysis.id}"
    return AnalysisCreated.model_validate(analysis)


@router.post(
    "/analyses",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnalysisCreated,
    responses={
        408: {"description": "The upload body stalled or was too slow"},
        413: {"description": "The file is over the size limit"},
        415: {"description": "Not an accepted video container"},
        422: {"description": "Undecodable, empty or too long video, frames too large or too small, or a bad field"},
        503: {"description": "The job queue is unavailable; nothing was stored"},
    },
)
async def create_analysis(
    request: Request,
    response: Response,
    user_id: CurrentUserId,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    video: Annotated[UploadFile, File(description="MP4, WebM, MOV, AVI or MKV video with a face")],
    sample_fps: Annotated[float | None, Form(ge=MIN_SAMPLE_FPS, le=MAX_SAMPLE_FPS)] = None,
    keep_video: Annotated[bool, Form(description="keep the video after processing")] = False,
    webhook_url: Annotated[AnyHttpUrl | None, Form(description="POSTed a signed JSON when done")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> AnalysisCreated:
    """Upload a video and queue its analysis.

    The video is written to a temporary name, checked, and published under its final name only after
    the analysis row is committed; on any failure (including the client going away) nothing is left.
    """
    idempotency_key = strip_control(idempotency_key) if idempotency_key else None
    if idempotency_key and (existing := await service.find_by_idempotency_key(session, user_id, idempotency_key)):
        return _accepted(response, existing)
    if not await service.user_exists(session, user_id):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=messages.ACCOUNT_GONE)
    webhook = check_webhook_url(webhook_url, allow_internal=settings.is_local)

    analysis_id = uuid.uuid4()
    incoming = storage.incoming_path(analysis_id)
    frames = FrameLimits(max_pixels=settings.max_frame_pixels, min_side_px=settings.min_frame_side_px)
    committed: Analysis | None = None
    try:
        stored = await to_thread.run_sync(
            store_and_check, video.file, incoming, settings.max_upload_bytes, settings.max_duration_s, frames
        )
        final = storage.upload_path(analysis_id, stored.container)
        filename = strip_control(video.filename or "").strip() or f"video.{stored.container}"
        analysis = Analysis(
            id=analysis_id,
            user_id=user_id,
            status=AnalysisStatus.queued,
            filename=filename[-255:],
            content_type=strip_control(video.content_type)[:100] if video.content_type else None,
            container=stored.container,
            size_bytes=stored.size_bytes,
            duration_s=stored.info.duration_s,
            sample_fps=sample_fps or settings.default_sample_fps,
            keep_video=keep_video,
            video_path=storage.relative(final),
            webhook_url=webhook,
            idempotency_key=idempotency_key,
        )
        committed = await service.insert_analysis(session, analysis)
        if committed is None:
            existing = await service.find_by_idempotency_key(session, user_id, idempotency_key or "")
            if existing is None:
                raise HTTPException(status.HTTP_409_CONFLICT, detail=messages.STORE_FAILED)
            return _accepted(response, existing)
        await to_thread.run_sync(storage.publish, incoming, final)
    except BaseException:
        incoming.unlink(missing_ok=True)
        if committed is not None:  # committed but not published: take the row back, leave nothing behind
            await _forget(session, storage, committed)
        raise
    finally:
        await video.close()

    try:
        await to_thread.run_sync(request.app.state.enqueue, committed.id)
    except Exception as exc:
        logger.exception("could not enqueue analysis %s", committed.id)
        await _forget(session, storage, committed)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=messages.QUEUE_DOWN) from exc
    return _accepted(response, committed)


async def _forget(session: AsyncSession, storage: Storage, analysis: Analysis) -> None:
    """Delete a just-created analysis and its files (an upload that could not be completed)."""
    try:
        await session.rollback()
        await service.delete_analysis(session, analysis)
    finally:
        await to_thread.run_sync(storage.delete_analysis_files, analysis.id, analysis.video_path)


@router.get("/analyses", response_model=AnalysisPage)
async def list_analyses(
    user_id: CurrentUserId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AnalysisPage:
    """The caller's analyses, newest first."""
    try:
        rows, next_cursor = await service.list_page(session, user_id, limit, cursor)
    except service.InvalidCursor:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="Invalid pagination cursor.") from None
    return AnalysisPage(items=[list_item(row, extras) for row, extras in rows], next_cursor=next_cursor)


def list_item(analysis: Analysis, extras: service.ListExtras) -> AnalysisListItem:
    """A history row: the analysis and, once succeeded, its thumbnail path and negative share."""
    item = AnalysisListItem.model_validate(analysis)
    if analysis.status == AnalysisStatus.succeeded:
        item.negative_share = extras.negative_share
        if extras.crop:
            item.thumbnail_url = f"/v1/analyses/{analysis.id}/crops/{quote(extras.crop)}"
    return item


async def owned_or_404(session: SessionDep, user_id: uuid.UUID, analysis_id: uuid.UUID) -> Analysis:
    """The caller's analysis, or 404 (also for another user's id)."""
    try:
        return await service.get_owned(session, user_id, analysis_id)
    except service.AnalysisNotFound:
        raise NOT_FOUND from None


@router.get("/analyses/{analysis_id}", response_model=AnalysisOut)
async def get_analysis(analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep) -> AnalysisOut:
    """The state and progress of one analysis."""
    return AnalysisOut.model_validate(await owned_or_404(session, user_id, analysis_id))


async def _succeeded_result(session: SessionDep, user_id: uuid.UUID, analysis_id: uuid.UUID) -> AnalysisResultOut:
    analysis = await owned_or_404(session, user_id, analysis_id)
    if analysis.status != AnalysisStatus.succeeded:
        detail = (
            f"The analysis failed: {analysis.error}"
            if analysis.status == AnalysisStatus.failed
            else f"The analysis is not finished yet (status: {analysis.status.value})."
        )
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail)
    result = await service.get_result(session, analysis_id)
    if result is None:  # pragma: no cover - the worker writes both in one transaction
        raise HTTPException(status.HTTP_409_CONFLICT, detail="The result is not available.")
    return AnalysisResultOut.model_validate(
        result_document(result.summary, result.frames, result.people, result.schema_version)
    )


@router.get(
    "/analyses/{analysis_id}/result",
    response_model=None,
    responses={
        200: {"model": AnalysisResultOut, "content": {"text/csv": {}}},
        409: {"description": "Not succeeded (yet)"},
    },
)
async def get_result(
    analysis_id: uuid.UUID,
    user_id: CurrentUserId,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> AnalysisResultOut | PlainTextResponse:
    """The result document, version 2: summary, people and per-frame timeline (JSON, or CSV with ``?format=csv``).

    Results stored in version 1 are converted on read (``upgraded_from: 1``)."""
    result = await _succeeded_result(session, user_id, analysis_id)
    if format == "csv":
        return _csv_response(analysis_id, result)
    return result


def _csv_response(analysis_id: uuid.UUID, result: AnalysisResultOut) -> PlainTextResponse:
    body = service.result_to_csv([frame.model_dump() for frame in result.frames])
    return PlainTextResponse(
        body,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="bloomwell-{analysis_id}.csv"'},
    )


@router.get("/analyses/{analysis_id}/result.csv", response_class=PlainTextResponse)
async def get_result_csv(analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep) -> PlainTextResponse:
    """The per-frame timeline as CSV (one row per face, with its ``track_id``)."""
    return _csv_response(analysis_id, await _succeeded_result(session, user_id, analysis_id))


@router.get("/analyses/{analysis_id}/crops/{name}", response_class=FileResponse)
async def get_crop(
    analysis_id: uuid.UUID, name: str, user_id: CurrentUserId, session: SessionDep, storage: StorageDep
) -> FileResponse:
    """A face crop referenced by the result."""
    await owned_or_404(session, user_id, analysis_id)
    path = storage.crop_path(analysis_id, name)
    if path is None or not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Crop not found.")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.delete("/analyses/{analysis_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_analysis(
    analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep, storage: StorageDep
) -> Response:
    """Delete an analysis: its video, face crops and result."""
    analysis = await owned_or_404(session, user_id, analysis_id)
    video_path = analysis.video_path
    await service.delete_analysis(session, analysis)
    await to_thread.run_sync(storage.delete_analysis_files, analysis_id, video_path)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
