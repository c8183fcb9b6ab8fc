"""Serving the built web app (``frontend/dist``) at ``/``, with client-side routes falling back to index.html.

The build writes ``<file>.br`` and ``<file>.gz`` next to each text asset (vite-plugin-compression2); a client that
accepts one of them gets it as is, with ``Content-Encoding`` and ``Vary: Accept-Encoding`` (no compression per request).
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

API_PREFIXES = ("v1/", "auth/", "docs", "openapi.json", "redoc", "healthz", "readyz", "metrics")

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Bloomwell</title>
<body style="font-family:sans-serif;max-width:40rem;margin:4rem auto">
<h1>Bloomwell API is running</h1><p>The web app has not been built. Run <code>make frontend</code>
(or <code>make run</code>, which builds it) and reload. The API docs are at <a href="/docs">/docs</a>.</p>"""


# Preferred first: brotli is smaller, gzip is understood everywhere.
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def accepted_encodings(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header allows (``q=0`` excludes one; ``*`` allows any)."""
    allowed: set[str] = set()
    refused: set[str] = set()
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        (allowed if q > 0 else refused).add(coding)
    if "*" in allowed:
        allowed |= {coding for coding, _ in PRECOMPRESSED}
    return allowed - refused


def static_file(request: Request, path: Path, cache: str) -> FileResponse:
    """``path``, or its precompressed sibling when the client accepts it."""
    variants = [(coding, path.with_name(path.name + suffix)) for coding, suffix in PRECOMPRESSED]
    available = [(coding, file) for coding, file in variants if file.is_file()]
    accepted = accepted_encodings(request.headers.get("accept-encoding", ""))
    for coding, file in available:
        if coding in accepted:
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            headers = {"Cache-Control": cache, "Vary": "Accept-Encoding", "Content-Encoding": coding}
            return FileResponse(file, media_type=media_type, headers=headers)
    # the plain file: the gateway's GZipMiddleware adds "Vary: Accept-Encoding" to it (variants exist only over 1 KB)
    return FileResponse(path, headers={"Cache-Control": cache})


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
            return static_file(request, candidate, cache)
    return static_file(request, index, "no-cache")
