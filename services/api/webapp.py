"""Serving the built web app (``frontend/dist``) at ``/``, with client-side routes falling back to index.html."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

API_PREFIXES = ("v1/", "auth/", "docs", "openapi.json", "redoc", "healthz", "readyz", "metrics")

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Bloomwell</title>
<body style="font-family:sans-serif;max-width:40rem;margin:4rem auto">
<h1>Bloomwell API is running</h1><p>The web app has not been built. Run <code>make frontend</code>
(or <code>make run</code>, which builds it) and reload. The API docs are at <a href="/docs">/docs</a>.</p>"""


@router.get("/{path:path}", response_model=None)
def web_app(request: Request, path: str) -> FileResponse | HTMLResponse:
    """A file from the built app, or ``index.html`` for the app's own routes."""
    if path.startswith(API_PREFIXES):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="Not found.")
    dist: Path = request.app.state.settings.frontend_dist
    index = dist / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT)
    if path:
        candidate = (dist / path).resolve()
        if candidate.is_relative_to(dist.resolve()) and candidate.is_file():
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
    return FileResponse(index, headers={"Cache-Control": "no-cache"})
