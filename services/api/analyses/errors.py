"""Why an analyses request cannot be served, as domain errors: raised by ``upload``, ``service`` and ``webhooks``
(which know nothing of HTTP) and mapped to a status code and a sentence in one place at the edge
(``services.api.errors``, sentences in ``services.api.messages``). Each error carries the figures its sentence
names."""

from __future__ import annotations

from dataclasses import dataclass


class AnalysisError(Exception):
    """Base of every refusal of an analyses request."""


class UploadRefused(AnalysisError):
    """An uploaded video that is not accepted (nothing of it is kept)."""


class NotAVideo(UploadRefused):
    """The bytes are not one of the accepted containers."""


@dataclass(eq=False)
class UnsupportedVideo(UploadRefused):
    """The container was recognised but the decoder refuses it; ``reason`` is the decoder's sentence."""

    reason: str


class EmptyUpload(UploadRefused):
    """The file has no bytes."""


@dataclass(eq=False)
class UploadTooLarge(UploadRefused):
    """The body is over ``MAX_UPLOAD_BYTES``."""

    limit_bytes: int

    @property
    def limit_mb(self) -> int:
        """The limit in whole MiB."""
        return self.limit_bytes // (1024 * 1024)


class UploadTooSlow(UploadRefused):
    """The body stalled or trickled (``UPLOAD_IDLE_TIMEOUT_S``, ``UPLOAD_MIN_BYTES_PER_S``)."""


class UnreadableVideo(UploadRefused):
    """No video frame could be decoded."""


@dataclass(eq=False)
class VideoTooLong(UploadRefused):
    """Longer than ``MAX_DURATION_S``."""

    limit_s: float


@dataclass(eq=False)
class FramesTooLarge(UploadRefused):
    """More pixels per frame than ``MAX_FRAME_PIXELS``."""

    width: int
    height: int
    max_pixels: int

    @property
    def limit_mp(self) -> float:
        """The limit in megapixels."""
        return self.max_pixels / 1e6


@dataclass(eq=False)
class FramesTooSmall(UploadRefused):
    """A side shorter than ``MIN_FRAME_SIDE_PX``."""

    width: int
    height: int
    min_side: int


class InvalidWebhookUrl(AnalysisError):
    """A webhook target this deployment does not call (an internal address outside local runs)."""


class AccountGone(AnalysisError):
    """The token is valid but its account was deleted meanwhile."""


class IdempotencyConflict(AnalysisError):
    """A concurrent request took the same idempotency key and its analysis cannot be found."""


class QueueUnavailable(AnalysisError):
    """The job queue refused the analysis; the upload was taken back."""


class AnalysisNotFound(AnalysisError):
    """No analysis with that id belongs to the caller."""


class CropNotFound(AnalysisError):
    """No such face crop of the caller's analysis."""


class InvalidCursor(AnalysisError):
    """A pagination cursor that this API did not issue."""


@dataclass(eq=False)
class AnalysisFailed(AnalysisError):
    """The result of a failed analysis was asked for; ``error`` is the worker's sentence."""

    error: str | None


@dataclass(eq=False)
class AnalysisNotFinished(AnalysisError):
    """The result of an analysis still queued or processing was asked for."""

    status: str
