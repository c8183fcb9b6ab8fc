"""Security headers on every gateway response (the web app, the API and the docs).

The web app gets a strict Content-Security-Policy: everything from this origin only, no inline script,
no framing (``frame-ancestors 'none'``), camera allowed for recording; ``'wasm-unsafe-eval'`` lets it compile
WebAssembly (the face check's ONNX Runtime, served from this origin) and nothing else that ``eval`` would.
API responses get a policy that allows nothing at all; the interactive docs (``/docs``, ``/redoc``), which FastAPI
serves with an inline script and the Swagger UI bundle from a CDN, get a policy that allows just that.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB_APP_CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")
API_PREFIXES = ("/v1/", "/auth/", "/openapi.json", "/healthz", "/readyz")

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(self), microphone=(), geolocation=(), payment=()",
}


def policy_for(path: str) -> str:
    """The Content-Security-Policy for a request path."""
    if path.startswith(DOCS_PATHS):
        return DOCS_CSP
    if path.startswith(API_PREFIXES):
        return API_CSP
    return WEB_APP_CSP


class SecurityHeaders:
    """Pure ASGI middleware (works for streaming responses too) adding the headers above.

    ``Strict-Transport-Security`` is added when the request came over HTTPS (directly, or as told by a
    trusted proxy's ``X-Forwarded-Proto``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = policy_for(scope["path"])
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", csp)
                if https:
                    headers.setdefault("strict-transport-security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, send_with_headers)
