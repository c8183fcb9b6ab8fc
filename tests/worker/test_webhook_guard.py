"""The worker refuses webhook hosts that resolve to internal addresses (outside local runs)."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from services.common import netguard
from services.common.netguard import BlockedAddress, internal_address, is_internal_host, resolve_public
from services.inference_worker.webhook import pinned_request, send_webhook
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


@pytest.mark.parametrize("host", ["224.0.0.1", "239.255.255.250", "ff02::1", "::ffff:10.0.0.1", "0.0.0.0"])
def test_multicast_mapped_and_unspecified_addresses_are_refused(host: str) -> None:
    assert is_internal_host(host)
    with pytest.raises(BlockedAddress):
        resolve_public(host, 80)


def _fake_dns(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> list[str]:
    """Make ``getaddrinfo`` answer ``answers`` one lookup after the other (a rebinding DNS server)."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list[tuple]:
        try:
            ipaddress.ip_address(host)
            return real(host, port, *args, **kwargs)  # an address literal needs no DNS
        except ValueError:
            pass
        asked.append(host)
        address = answers[min(len(asked), len(answers)) - 1]
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_name_with_any_non_public_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dns(monkeypatch, ["10.0.0.5"])
    with pytest.raises(BlockedAddress, match="10.0.0.5"):
        resolve_public("hook.example.org", 443)


def test_the_request_goes_to_the_checked_address_with_the_name_in_host_and_sni(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _fake_dns(monkeypatch, ["93.184.216.34", "127.0.0.1"])
    url, headers, extensions = pinned_request("https://hook.example.org/cb?x=1", allow_internal=False)
    assert url == "https://93.184.216.34:443/cb?x=1"
    assert headers == {"Host": "hook.example.org"} and extensions == {"sni_hostname": "hook.example.org"}
    assert asked == ["hook.example.org"]  # one lookup; nothing can rebind it afterwards


def test_webhook_is_delivered_to_the_pinned_address_even_if_dns_changes(
    monkeypatch: pytest.MonkeyPatch, webhook_receiver: WebhookReceiver
) -> None:
    # loopback stands in for a public address here (no traffic may leave this machine in tests);
    # the second answer, which a re-resolving client would use, points somewhere else entirely
    monkeypatch.setattr(netguard, "is_public_address", lambda address: str(address) == "127.0.0.1")
    asked = _fake_dns(monkeypatch, ["127.0.0.1", "10.9.9.9"])
    port = webhook_receiver.url.split(":")[2].split("/")[0]
    assert send_webhook(f"http://hook.example.org:{port}/hook", {"a": 1}, "s", timeout_s=5, tries=1) is True
    assert webhook_receiver.hosts == [f"hook.example.org:{port}"]
    assert asked == ["hook.example.org"]


def test_production_worker_requires_a_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.inference_worker.config import WorkerSettings

    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        WorkerSettings(environment="production", webhook_secret="")
    assert WorkerSettings(environment="production", webhook_secret="s3cret").webhook_secret == "s3cret"
