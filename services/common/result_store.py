"""The result document as stored: one ``analysis_results`` row per finished analysis, in either schema version."""

from __future__ import annotations

import uuid

from services.common.analysis import SCHEMA_VERSION
from services.common.models import AnalysisResult
from services.common.result_upgrade import upgrade_v1, with_derived_figures
from services.common.schemas import ResultDocument


def result_row(analysis_id: uuid.UUID, document: ResultDocument) -> AnalysisResult:
    """The row that stores ``document`` (its JSON parts as ``model_dump(mode="json")`` writes them)."""
    model = document.summary.model
    return AnalysisResult(
        analysis_id=analysis_id,
        schema_version=document.schema_version,
        summary=document.summary.model_dump(mode="json"),
        people=[person.model_dump(mode="json") for person in document.people],
        frames=[frame.model_dump(mode="json") for frame in document.frames],
        model_name=model.name,
        model_version=model.version,
    )


def stored_document(row: AnalysisResult) -> ResultDocument:
    """The version-2 document of a stored row, whichever version it was stored in (version 1 is upgraded)."""
    if (row.schema_version or 1) >= SCHEMA_VERSION and row.people is not None:
        people, frames = with_derived_figures(row.summary, row.people, row.frames)
        return ResultDocument.model_validate(
            {"summary": row.summary, "people": people, "primary_track_id": row.summary.get("primary_track_id"),
             "frames": frames}
        )
    return upgrade_v1(row.summary, row.frames)
