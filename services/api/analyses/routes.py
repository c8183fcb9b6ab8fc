"""``/v1/analyses`` routes: thin — each hands its request to ``service`` and shapes the answer; refusals are
domain errors (``services.api.analyses.errors``), answered by the HTTP edge (``services.api.errors``)."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import quote

from anyio import to_thread
from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile, status
from fastapi.responses import FileResponse, PlainTextResponse
from pydantic import AnyHttpUrl

from services.api.analyses import service
from services.api.analyses.errors import CropNotFound
from services.api.analyses.face_check import face_check_config
from services.api.analyses.schemas import AnalysisCreated, AnalysisListItem, AnalysisOut, AnalysisPage, PublicConfig
from services.api.analyses.upload import ACCEPTED_EXTENSIONS, ACCEPTED_MIME_TYPES
from services.api.deps import AnalysisQueueDep, CurrentUserId, SettingsDep, StorageDep
from services.common import speed
from services.common.analysis import GAP_PHRASES, MAX_SAMPLE_FPS, MIN_SAMPLE_FPS
from services.common.deps import RedisDep, SessionDep
from services.common.models import Analysis, AnalysisStatus
from services.common.schemas import ResultDocument

router = APIRouter(prefix="/v1", tags=["analyses"])


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
    response: Response,
    user_id: CurrentUserId,
    session: SessionDep,
    settings: SettingsDep,
    storage: StorageDep,
    queue: AnalysisQueueDep,
    video: Annotated[UploadFile, File(description="MP4, WebM, MOV, AVI or MKV video with a face")],
    sample_fps: Annotated[float | None, Form(ge=MIN_SAMPLE_FPS, le=MAX_SAMPLE_FPS)] = None,
    keep_video: Annotated[bool, Form(description="keep the video after processing")] = False,
    webhook_url: Annotated[AnyHttpUrl | None, Form(description="POSTed a signed JSON when done")] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> AnalysisCreated:
    """Upload a video and queue its analysis (``service.accept_upload``: nothing is left on any failure)."""
    upload = service.Upload(user_id=user_id, file=video.file, filename=video.filename, content_type=video.content_type,
                            sample_fps=sample_fps, keep_video=keep_video, webhook_url=webhook_url,
                            idempotency_key=idempotency_key)
    try:
        analysis = await service.accept_upload(session, storage, queue, settings, upload)
    finally:
        await video.close()
    response.headers["Location"] = f"/v1/analyses/{analysis.id}"
    return AnalysisCreated.model_validate(analysis)


@router.get("/analyses", response_model=AnalysisPage)
async def list_analyses(
    user_id: CurrentUserId,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AnalysisPage:
    """The caller's analyses, newest first."""
    rows, next_cursor = await service.list_page(session, user_id, limit, cursor)
    return AnalysisPage(items=[list_item(row, extras) for row, extras in rows], next_cursor=next_cursor)


def list_item(analysis: Analysis, extras: service.ListExtras) -> AnalysisListItem:
    """A history row: the analysis and, once succeeded, its thumbnail path and negative share."""
    item = AnalysisListItem.model_validate(analysis)
    if analysis.status == AnalysisStatus.succeeded:
        item.negative_share = extras.negative_share
        if extras.crop:
            item.thumbnail_url = f"/v1/analyses/{analysis.id}/crops/{quote(extras.crop)}"
    return item


@router.get("/analyses/{analysis_id}", response_model=AnalysisOut)
async def get_analysis(analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep,
                       redis: RedisDep) -> AnalysisOut:
    """The state and progress of one analysis, with the expected processing time while it is not finished."""
    analysis = await service.get_owned(session, user_id, analysis_id)
    out = AnalysisOut.model_validate(analysis)
    if not analysis.status.is_terminal:
        out.expected_s = await speed.expected_for_async(redis, analysis.duration_s)
    return out


@router.get(
    "/analyses/{analysis_id}/result",
    response_model=None,
    responses={
        200: {"model": ResultDocument, "content": {"text/csv": {}}},
        409: {"description": "Not succeeded (yet)"},
    },
)
async def get_result(
    analysis_id: uuid.UUID,
    user_id: CurrentUserId,
    session: SessionDep,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response:
    """The result document, version 2: summary, people and per-frame timeline (JSON, or CSV with ``?format=csv``).

    Results stored in version 1 are converted on read (``upgraded_from: 1``)."""
    result = await service.succeeded_result(session, user_id, analysis_id)
    if format == "csv":
        return _csv_response(analysis_id, result)
    # pydantic's serialiser, straight from the validated document: FastAPI's generic encoder took ~40 ms for every
    # frame of a 15 s video
    return Response(result.model_dump_json(), media_type="application/json")


def _csv_response(analysis_id: uuid.UUID, result: ResultDocument) -> PlainTextResponse:
    body = service.result_to_csv(result.frames)
    return PlainTextResponse(
        body,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="bloomwell-{analysis_id}.csv"'},
    )


@router.get("/analyses/{analysis_id}/result.csv", response_class=PlainTextResponse)
async def get_result_csv(analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep) -> PlainTextResponse:
    """The per-frame timeline as CSV (one row per face, with its ``track_id``)."""
    return _csv_response(analysis_id, await service.succeeded_result(session, user_id, analysis_id))


@router.get("/analyses/{analysis_id}/crops/{name}", response_class=FileResponse)
async def get_crop(
    analysis_id: uuid.UUID, name: str, user_id: CurrentUserId, session: SessionDep, storage: StorageDep
) -> FileResponse:
    """A face crop referenced by the result."""
    await service.get_owned(session, user_id, analysis_id)
    path = storage.crop_path(analysis_id, name)
    if path is None or not path.is_file():
        raise CropNotFound
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.delete("/analyses/{analysis_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_analysis(
    analysis_id: uuid.UUID, user_id: CurrentUserId, session: SessionDep, storage: StorageDep
) -> Response:
    """Delete an analysis: its video, face crops and result."""
    analysis = await service.get_owned(session, user_id, analysis_id)
    video_path = analysis.video_path
    await service.delete_analysis(session, analysis)
    await to_thread.run_sync(storage.delete_analysis_files, analysis_id, video_path)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
