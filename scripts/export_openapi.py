"""Print the gateway's OpenAPI schema as JSON (the source of the web app's generated API types).

``python -m scripts.export_openapi > frontend/openapi.json``; ``make api-types`` runs this and then
``openapi-typescript`` in ``frontend/``. Builds the app without starting it: nothing is connected.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from services.api.main import create_app


def gateway_openapi() -> dict[str, Any]:
    """The gateway's OpenAPI document, as FastAPI generates it."""
    return create_app().openapi()


def render(schema: dict[str, Any]) -> str:
    """The document as stable, diff-friendly JSON (sorted keys, two-space indent, trailing newline)."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the schema to stdout."""
    sys.stdout.write(render(gateway_openapi()))


if __name__ == "__main__":
    main()
