"""The web app's API types are generated from the gateway's OpenAPI schema: the committed copy must be current.

``frontend/openapi.json`` is what ``frontend/src/api/generated.ts`` is generated from (``make api-types``); the
``npm run api-types:check`` (run by ``make test``) checks the TypeScript against that file, this one checks the
file against the gateway.
"""

from __future__ import annotations

from pathlib import Path

from scripts.export_openapi import gateway_openapi, render

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
