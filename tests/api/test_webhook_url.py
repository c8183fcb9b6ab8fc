"""Webhook targets: internal addresses are refused outside local runs (pure logic)."""

from __future__ import annotations

import pytest
from pydantic import AnyHttpUrl

from services.api.analyses.errors import InvalidWebhookUrl
from services.api.analyses.webhooks import check_webhook_url
from services.api.errors import http_exception
from services.common.netguard import is_internal_host


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.0.0.1", "10.1.2.3", "192.168.0.10", "172.16.5.4", "169.254.169.254", "[::1]", "redis",
     "api.internal", "printer.local"],
)
def test_internal_hosts(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize("host", ["hooks.example.org", "8.8.8.8", "[2606:4700:4700::1111]"])
def test_public_hosts(host: str) -> None:
    assert not is_internal_host(host)


def test_internal_target_refused_in_production_allowed_locally() -> None:
    url = AnyHttpUrl("http://169.254.169.254/latest/meta-data")
    with pytest.raises(InvalidWebhookUrl) as refused:
        check_webhook_url(url, allow_internal=False)
    assert http_exception(refused.value).status_code == 422
    assert check_webhook_url(url, allow_internal=True) == str(url)
    assert check_webhook_url(AnyHttpUrl("https://hooks.example.org/x"), allow_internal=False) == "https://hooks.example.org/x"
    assert check_webhook_url(None, allow_internal=False) is None
