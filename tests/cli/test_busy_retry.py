"""The client waits out the gateway's load shedding: a GET answered 503 + Retry-After is sent again after that wait
(a bounded number of times); anything else is reported as it came. Pure logic over httpx's MockTransport."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from bloomwell_client.client import BUSY_RETRIES, ApiError, BloomwellClient, Tokens

ANALYSIS = {"id": "8b0f1f8e-6b5e-4c39-9d55-2a8b1e7c0a11", "status": "queued", "progress": 0.0, "stage": "queued",
            "error": None, "error_code": None, "created_at": "2026-12-03T10:00:00Z", "started_at": None,
            "finished_at": None, "filename": "clip.mp4", "dominant_emotion": None, "duration_s": 4.6,
            "sample_fps": 5.0, "keep_video": False}


def client_answering(answers: list[httpx.Response], seen: list[httpx.Request]) -> BloomwellClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)

    client = BloomwellClient("http://api.test", transport=httpx.MockTransport(handle))
    client._tokens = Tokens("access", "refresh", time.time() + 3600)
    return client


def busy(retry_after: str = "0") -> httpx.Response:
    return httpx.Response(503, json={"detail": "The service is busy right now."}, headers={"Retry-After": retry_after})


def test_a_shed_get_is_sent_again_after_retry_after() -> None:
    seen: list[httpx.Request] = []
    with client_answering([busy(), busy(), httpx.Response(200, json=ANALYSIS)], seen) as client:
        assert client.get(ANALYSIS["id"]).status == "queued"
    assert len(seen) == 3


def test_shedding_that_lasts_is_reported() -> None:
    seen: list[httpx.Request] = []
    with client_answering([busy() for _ in range(BUSY_RETRIES + 1)], seen) as client, pytest.raises(ApiError) as err:
        client.get(ANALYSIS["id"])
    assert err.value.status_code == 503 and len(seen) == BUSY_RETRIES + 1


@pytest.mark.parametrize("answer", [busy("60"), httpx.Response(503, json={"detail": "queue down"})])
def test_a_long_or_missing_retry_after_is_not_waited_for(answer: httpx.Response) -> None:
    seen: list[httpx.Request] = []
    with client_answering([answer], seen) as client, pytest.raises(ApiError):
        client.get(ANALYSIS["id"])
    assert len(seen) == 1


def test_other_methods_are_not_repeated() -> None:
    seen: list[httpx.Request] = []
    with client_answering([busy()], seen) as client, pytest.raises(ApiError):
        client.delete(ANALYSIS["id"])
    assert len(seen) == 1


def test_the_wait_is_retry_after_with_jitter_within_half_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from bloomwell_client import client as module

    waits: list[float] = []
    monkeypatch.setattr(module.time, "sleep", waits.append)
    seen: list[httpx.Request] = []
    answers = [busy("2"), busy("2"), busy("2"), httpx.Response(200, json=ANALYSIS)]
    with client_answering(answers, seen) as client:
        client.get(ANALYSIS["id"])
    assert len(waits) == 3 and all(2.0 <= w <= 3.0 for w in waits)
    assert len(set(waits)) > 1  # spread, not three clients' worth of identical comebacks


def test_a_shed_event_stream_is_opened_again(monkeypatch: pytest.MonkeyPatch) -> None:
    from bloomwell_client import client as module

    monkeypatch.setattr(module.time, "sleep", lambda _s: None)
    terminal = {"analysis_id": ANALYSIS["id"], "status": "succeeded", "progress": 1.0, "stage": "done",
                "error": None, "error_code": None}
    stream = httpx.Response(200, headers={"content-type": "text/event-stream"},
                            content=f"event: progress\ndata: {json.dumps(terminal)}\n\n".encode())
    seen: list[httpx.Request] = []
    with client_answering([busy("1"), busy("1"), stream], seen) as client:
        events = list(client.events(ANALYSIS["id"]))
    assert [e.status.value for e in events] == ["succeeded"] and len(seen) == 3
    seen.clear()
    with client_answering([busy("1") for _ in range(BUSY_RETRIES + 1)], seen) as client, \
            pytest.raises(ApiError) as err:
        list(client.events(ANALYSIS["id"]))
    assert err.value.status_code == 503 and len(seen) == BUSY_RETRIES + 1
