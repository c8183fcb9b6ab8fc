"""The worker refuses webhook hosts that resolve to internal addresses (outside local runs)."""

from __future__ import annotations

import pytest

from services.common.netguard import internal_address
from services.inference_worker.webhook import send_webhook
from tests.worker.conftest import WebhookReceiver


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "nohost"])
def test_internal_hosts_and_names_resolving_to_them_are_flagged(host: str) -> None:
    assert internal_address(host) is not None


def test_a_public_address_literal_passes() -> None:
    assert internal_address("93.184.216.34") is None


def test_a_name_that_does_not_resolve_is_refused() -> None:
    assert internal_address("does-not-exist.invalid") == "does-not-exist.invalid"


def test_internal_receiver_is_not_called_outside_local_runs(webhook_receiver: WebhookReceiver) -> None:
    assert send_webhook(webhook_receiver.url, {"a": 1}, "s", timeout_s=2, allow_internal=False) is False
    assert webhook_receiver.received == []


def test_internal_receiver_is_called_in_local_runs(webhook_receiver: WebhookReceiver) -> None:
    assert send_webhook(webhook_receiver.url, {"a": 1}, "s", timeout_s=2, allow_internal=True) is True
    assert [body for body, _ in webhook_receiver.received] == [b'{"a":1}']
