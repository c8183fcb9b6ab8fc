"""``/auth/*`` forwarded to the auth service, so clients use one origin."""

from __future__ import annotations

import logging

import httpx
from anyio import to_thread
from fastapi import APIRouter, Request, Response, status

from services.api.analyses import service
from services.api.deps import bearer_scheme, get_current_user_id

logger = logging.getLogger("bloomwell.api.proxy")

router = APIRouter(include_in_schema=False)

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


async def forward(request: Request, path: str) -> Response:
    """Send the request on to the auth service and relay its answer."""
    client: httpx.AsyncClient = request.app.state.auth_client
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
    if request.client:
        headers["x-forwarded-for"] = request.client.host
    try:
        upstream = await client.request(
            request.method,
            f"/auth/{path}",
            params=request.query_params,
            content=await request.body(),
            headers=headers,
        )
    except httpx.HTTPError as exc:
        logger.warning("auth service unreachable: %s", exc)
        return Response(
            content=b'{"detail":"The sign-in service is unavailable right now. Please try again shortly."}',
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            media_type="application/json",
        )
    relay = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP | {"content-encoding"}}
    return Response(content=upstream.content, status_code=upstream.status_code, headers=relay)


@router.delete("/auth/me")
async def delete_account(request: Request) -> Response:
    """Delete the account through the auth service, then remove the files its analyses left in storage."""
    user_id = await get_current_user_id(request, await bearer_scheme(request))
    async with request.app.state.sessionmaker() as session:
        files = await service.list_files_of_user(session, user_id)
    response = await forward(request, "me")
    if response.status_code == status.HTTP_204_NO_CONTENT:
        storage = request.app.state.storage
        for analysis_id, video_path in files:
            await to_thread.run_sync(storage.delete_analysis_files, analysis_id, video_path)
    return response


@router.api_route("/auth/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def auth_proxy(request: Request, path: str) -> Response:
    """Everything else under ``/auth`` goes to the auth service unchanged."""
    return await forward(request, path)
