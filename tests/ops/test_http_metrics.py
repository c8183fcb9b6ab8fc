"""``/metrics`` of the real gateway and auth apps, served by uvicorn on real sockets, scraped over HTTP."""

from __future__ import annotations

import httpx
import pytest

from services.api.config import ApiSettings
from services.api.main import create_app as create_api_app
from services.auth.config import AuthSettings
from services.auth.main import create_app as create_auth_app
from tests.live import serve

pytestmark = pytest.mark.integration


def test_gateway_and_auth_expose_request_metrics(auth_settings: AuthSettings, api_settings: ApiSettings) -> None:
    with serve(create_auth_app(auth_settings)) as auth_url:
        gateway_settings = api_settings.model_copy(update={"auth_url": auth_url})
        with serve(create_api_app(gateway_settings)) as api_url, httpx.Client(timeout=30) as http:
            assert http.get(f"{api_url}/v1/config").status_code == 200
            assert http.get(f"{api_url}/auth/.well-known/jwks.json").status_code == 200
            api_metrics = http.get(f"{api_url}/metrics")
            auth_metrics = http.get(f"{auth_url}/metrics")
    assert api_metrics.status_code == 200 and api_metrics.headers["content-type"].startswith("text/plain")
    api_text, auth_text = api_metrics.text, auth_metrics.text
    assert 'http_requests_total{handler="/v1/config",method="GET",status="2xx"} 1.0' in api_text
    assert 'http_request_duration_seconds_count{handler="/v1/config",method="GET"' in api_text
    assert 'handler="/auth/.well-known/jwks.json",method="GET",status="2xx"} 1.0' in auth_text
    assert 'handler="/metrics"' not in api_text  # scrapes are not counted
