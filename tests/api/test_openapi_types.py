"""The web app's API types are generated from the gateway's OpenAPI schema: the committed copy must be current.

``frontend/openapi.json`` is what ``frontend/src/api/generated.ts`` is generated from (``make api-types``); the
``npm run api-types:check`` (run by ``make test``) checks the TypeScript against that file, this one checks the
file against the gateway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bloomwell_ml.labels import EMOTIONS
from scripts.export_openapi import gateway_openapi, render
from services.common.analysis import ErrorCode, Stage, UnassessableReason
from services.common.models import AnalysisStatus

SNAPSHOT = Path(__file__).resolve().parents[2] / "frontend" / "openapi.json"


def test_committed_openapi_schema_matches_the_gateway() -> None:
    current = render(gateway_openapi())
    assert SNAPSHOT.read_text() == current, "frontend/openapi.json is stale: run `make api-types`"


def test_result_document_is_described_in_the_schema() -> None:
    schemas = gateway_openapi()["components"]["schemas"]
    assert {"ResultDocument", "Person", "Segment", "TimelinePoint", "FaceResult", "UnassessableReason"} <= set(
        schemas
    )
    assert "people" in schemas["ResultDocument"]["properties"]


def test_closed_string_sets_are_enums_in_the_schema() -> None:
    """``stage``, ``error_code``, ``status``, expression labels and gap reasons are enums, so the generated
    TypeScript types are unions and the web app's build fails on a code it has no words for."""
    schemas = gateway_openapi()["components"]["schemas"]

    def enum_of(schema: dict[str, Any]) -> list[str]:
        for option in schema.get("anyOf", [schema]):
            if "$ref" in option:
                return list(schemas[option["$ref"].rsplit("/", 1)[1]]["enum"])
        raise AssertionError(f"not an enum: {schema}")

    analysis = schemas["AnalysisOut"]["properties"]
    assert enum_of(analysis["stage"]) == [stage.value for stage in Stage]
    assert enum_of(analysis["error_code"]) == [code.value for code in ErrorCode]
    assert enum_of(analysis["status"]) == [status.value for status in AnalysisStatus]
    assert enum_of(analysis["dominant_emotion"]) == list(EMOTIONS)
    assert enum_of(schemas["FaceResult"]["properties"]["emotion"]) == list(EMOTIONS)
    assert enum_of(schemas["FaceResult"]["properties"]["unassessable_reason"]) == [r.value for r in UnassessableReason]
    assert enum_of(schemas["Segment"]["properties"]["emotion"]) == list(EMOTIONS)
    assert enum_of(schemas["Person"]["properties"]["dominant_emotion"]) == list(EMOTIONS)
    assert "invalid_result" in enum_of(analysis["error_code"])
