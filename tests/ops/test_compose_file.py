"""What docker-compose.yml promises operators, read from the file itself (the stack is run by
``make test-compose``): the gateway sits only behind the web proxy, nobody's X-Forwarded-For is believed
blindly, no access log carries query strings, secrets come from ``make secrets``, health checks are cheap."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from services.common.settings import REPO_ROOT


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def _command(service: dict[str, Any]) -> list[str]:
    return [str(part) for part in service.get("command", [])]


def test_only_the_web_proxy_is_published_and_on_loopback_by_default(compose: dict[str, Any]) -> None:
    published = {name: svc["ports"] for name, svc in compose["services"].items()
                 if svc.get("ports") and not svc.get("profiles")}
    assert list(published) == ["web"]
    optional = {name: svc["ports"] for name, svc in compose["services"].items()
                if svc.get("profiles") and svc.get("ports")}
    assert set(optional) == {"prometheus", "flower"}  # the monitoring profile, on loopback unless told otherwise
    assert all(port.startswith("${") and ":-127.0.0.1}" in port for ports in optional.values() for port in ports)
    assert published["web"] == ["${WEB_BIND:-127.0.0.1}:${WEB_PORT:-8080}:80"]
    assert compose["services"]["web"]["networks"] == ["edge"]
    assert compose["services"]["api"]["networks"] == ["backend", "edge"]


def test_forwarded_headers_are_believed_only_from_known_networks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("api", "auth"):
        command = _command(services[name])
        assert "--forwarded-allow-ips" not in command and "--no-proxy-headers" in command
        assert "--no-access-log" in command
    assert services["api"]["environment"]["TRUSTED_PROXIES"] == "${EDGE_SUBNET:-172.31.255.0/26}"
    assert services["auth"]["environment"]["TRUSTED_PROXIES"] == "${BACKEND_SUBNET:-172.31.254.0/24}"
    subnets = {name: net["ipam"]["config"][0]["subnet"] for name, net in compose["networks"].items()}
    assert subnets == {"backend": "${BACKEND_SUBNET:-172.31.254.0/24}", "edge": "${EDGE_SUBNET:-172.31.255.0/26}"}
    on_edge = {name for name, svc in services.items() if "edge" in svc.get("networks", [])}
    assert on_edge == {"api", "web"}


def test_workers_get_the_webhook_secret_and_a_cheap_health_check(compose: dict[str, Any]) -> None:
    for name in ("inference_worker", "inference_worker_cpu"):
        worker = compose["services"][name]
        assert worker["environment"]["WEBHOOK_SECRET_FILE"] == "/run/secrets/webhook_secret"
        assert "webhook_secret" in worker["secrets"]
        assert worker["healthcheck"]["test"] == ["CMD", "python", "-m", "services.inference_worker.healthcheck"]
    assert compose["secrets"]["webhook_secret"]["file"] == "./infra/secrets/webhook_secret"
    assert compose["services"]["auth"]["environment"]["JWT_PRIVATE_KEY_FILE"] == "/run/secrets/jwt_private_key"
