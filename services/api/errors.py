"""The HTTP edge of the analyses domain: each domain error (``services.api.analyses.errors``) has one status code
and one sentence (``services.api.messages``, filled with the error's figures), answered as ``{"detail": ...}`` like
every other refusal of the API."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse

from services.api import messages
from services.api.analyses import errors

REFUSALS: dict[type[errors.AnalysisError], tuple[int, str]] = {
    errors.NotAVideo: (status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, messages.NOT_A_VIDEO),
    errors.UnsupportedVideo: (status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, messages.UNSUPPORTED_VIDEO),
    errors.EmptyUpload: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.EMPTY_FILE),
    errors.UploadTooLarge: (status.HTTP_413_CONTENT_TOO_LARGE, messages.TOO_LARGE),
    errors.UploadTooSlow: (status.HTTP_408_REQUEST_TIMEOUT, messages.UPLOAD_TOO_SLOW),
    errors.UnreadableVideo: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.UNREADABLE),
    errors.VideoTooLong: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.TOO_LONG),
    errors.FramesTooLarge: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.FRAMES_TOO_LARGE),
    errors.FramesTooSmall: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.FRAMES_TOO_SMALL),
    errors.InvalidWebhookUrl: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.WEBHOOK_NOT_PUBLIC),
    errors.AccountGone: (status.HTTP_401_UNAUTHORIZED, messages.ACCOUNT_GONE),
    errors.IdempotencyConflict: (status.HTTP_409_CONFLICT, messages.STORE_FAILED),
    errors.QueueUnavailable: (status.HTTP_503_SERVICE_UNAVAILABLE, messages.QUEUE_DOWN),
    errors.AnalysisNotFound: (status.HTTP_404_NOT_FOUND, messages.ANALYSIS_NOT_FOUND),
    errors.CropNotFound: (status.HTTP_404_NOT_FOUND, messages.CROP_NOT_FOUND),
    errors.InvalidCursor: (status.HTTP_422_UNPROCESSABLE_CONTENT, messages.INVALID_CURSOR),
    errors.AnalysisFailed: (status.HTTP_409_CONFLICT, messages.RESULT_OF_FAILED),
    errors.AnalysisNotFinished: (status.HTTP_409_CONFLICT, messages.RESULT_NOT_FINISHED),
}
"""Status code and sentence template of every domain error (a test checks that none is missing)."""


def http_exception(error: errors.AnalysisError) -> HTTPException:
    """The HTTP answer to ``error``: its status code and its sentence, filled with the error's figures."""
    code, template = next(REFUSALS[kind] for kind in type(error).__mro__ if kind in REFUSALS)
    return HTTPException(code, detail=template.format_map(_Figures(error)))


class _Figures(dict[str, object]):
    """The fields a sentence template names, read from the error (attributes and properties alike)."""

    def __init__(self, error: errors.AnalysisError) -> None:
        super().__init__()
        self.error = error

    def __missing__(self, key: str) -> object:
        return getattr(self.error, key)


async def _answer(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.AnalysisError)
    http = http_exception(exc)
    return JSONResponse({"detail": http.detail}, status_code=http.status_code, headers=http.headers)


def install(app: FastAPI) -> None:
    """Answer every domain error raised while serving a request of ``app``."""
    app.add_exception_handler(errors.AnalysisError, _answer)
