"""The webhook outbox on PostgreSQL and SQLite with a real HTTP receiver: the delivery is written with the job's end,
sent once with a signed idempotency key, retried with back-off up to its bound, and never sent twice at once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.analysis import ErrorCode
from services.common.models import Analysis, DeliveryStatus, WebhookDelivery, utcnow
from services.inference_worker import metrics, outbox, persist
from services.inference_worker.outbox import DeliveryPolicy, backoff_s
from services.inference_worker.webhook import (
    DELIVERY_HEADER,
    DELIVERY_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
    verify_delivery,
)
from tests.worker.conftest import WebhookReceiver
from tests.worker.db import create_analysis, delete_analysis, sqlite_engine
from tests.worker.test_persist import document

pytestmark = pytest.mark.integration
SECRET = "outbox-secret"
POLICY = DeliveryPolicy(secret=SECRET, timeout_s=5.0, max_attempts=3, retry_base_s=10.0, retry_max_s=60.0,
                        allow_internal=True)


@pytest.fixture(params=["postgresql", "sqlite"])
async def sessions(
    request: pytest.FixtureRequest, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on this test session's PostgreSQL database (its outbox emptied first: sweeps see every row) or on a
    fresh SQLite file."""
    if request.param == "postgresql":
        factory = async_sessionmaker(engine, expire_on_commit=False)
        async with factory() as session, session.begin():
            await session.execute(delete(WebhookDelivery))
        yield factory
    else:
        sqlite = await sqlite_engine(tmp_path / "outbox.db")
        yield async_sessionmaker(sqlite, expire_on_commit=False)
        await sqlite.dispose()


async def delivery_of(sessions: async_sessionmaker[AsyncSession], analysis_id: uuid.UUID) -> WebhookDelivery | None:
    async with sessions() as session:
        return await session.scalar(select(WebhookDelivery).where(WebhookDelivery.analysis_id == analysis_id))


async def make_due(sessions: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID) -> None:
    """Skip the back-off (or a lease): the delivery is due now."""
    async with sessions() as session, session.begin():
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                              .values(next_attempt_at=utcnow() - timedelta(seconds=1)))


async def ended_with_webhook(sessions: async_sessionmaker[AsyncSession], url: str) -> tuple[uuid.UUID, uuid.UUID]:
    aid = await create_analysis(sessions, video_path="uploads/x.mp4", webhook_url=url)
    ended = await persist.save_success(sessions, aid, document=document(), duration_s=1.0)
    assert ended is not None and ended.delivery_id is not None
    return aid, ended.delivery_id


async def test_the_end_of_a_job_queues_exactly_one_delivery_in_its_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    aid, delivery_id = await ended_with_webhook(sessions, "https://hooks.example.org/bloomwell")
    row = await delivery_of(sessions, aid)
    assert row is not None and row.id == delivery_id and row.status == DeliveryStatus.pending and row.attempts == 0
    assert row.payload["delivery_id"] == str(delivery_id) and row.payload["analysis_id"] == str(aid)
    assert row.payload["event"] == "analysis.succeeded" and row.payload["dominant_emotion"] == "happy"
    again = await persist.save_success(sessions, aid, document=document(), duration_s=1.0)  # a duplicate run
    assert again is not None and again.delivery_id is None

    failed = await create_analysis(sessions, webhook_url="https://hooks.example.org/bloomwell")
    ended = await persist.save_failure(sessions, failed, error="No face.", error_code=ErrorCode.no_face)
    row = await delivery_of(sessions, failed)
    assert ended is not None and row is not None and ended.delivery_id == row.id
    assert row.payload["status"] == "failed" and row.payload["error_code"] == "no_face"

    quiet = await create_analysis(sessions)
    ended = await persist.save_success(sessions, quiet, document=document(), duration_s=1.0)
    assert ended is not None and ended.delivery_id is None and await delivery_of(sessions, quiet) is None


async def test_a_delivery_is_sent_once_with_a_signed_idempotency_key(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    aid, delivery_id = await ended_with_webhook(sessions, webhook_receiver.url)
    assert await outbox.deliver(sessions, delivery_id, POLICY) == "delivered"
    assert await outbox.deliver(sessions, delivery_id, POLICY) is None  # nothing left to do
    assert await outbox.sweep(sessions, POLICY) == {}
    assert len(webhook_receiver.received) == 1
    body, signature = webhook_receiver.received[0]
    headers = webhook_receiver.headers[0]
    assert verify(body, SECRET, signature) and headers[SIGNATURE_HEADER] == signature
    assert headers[DELIVERY_HEADER] == str(delivery_id) and headers[TIMESTAMP_HEADER].isdigit()
    assert verify_delivery(body, SECRET, headers)
    assert json.loads(body)["delivery_id"] == str(delivery_id)
    row = await delivery_of(sessions, aid)
    assert row is not None and row.status == DeliveryStatus.delivered and row.attempts == 1
    assert row.delivered_at is not None and row.last_error is None


def test_the_delivery_signature_binds_key_time_and_body() -> None:
    from services.inference_worker.webhook import signed_headers

    body = b'{"a":1}'
    headers = signed_headers(body, SECRET, "d-1", timestamp=1_000_000)
    assert verify_delivery(body, SECRET, headers, now=1_000_100)
    assert not verify_delivery(body, SECRET, headers, now=1_000_000 + 301)  # a replay, too late
    assert not verify_delivery(body + b" ", SECRET, headers, now=1_000_100)
    assert not verify_delivery(body, "another", headers, now=1_000_100)
    assert not verify_delivery(body, SECRET, {**headers, DELIVERY_HEADER: "d-2"}, now=1_000_100)
    assert not verify_delivery(body, SECRET, {**headers, TIMESTAMP_HEADER: "1000001"}, now=1_000_100)
    assert not verify_delivery(body, SECRET, {k: v for k, v in headers.items() if k != DELIVERY_SIGNATURE_HEADER})
    assert DELIVERY_SIGNATURE_HEADER not in signed_headers(body, "", "d-1")  # no secret, no signatures


async def test_failed_attempts_back_off_record_their_error_and_stop_at_the_bound(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    webhook_receiver.status = 500
    gave_up_before = metrics.WEBHOOK_DELIVERIES.labels(outcome="gave_up")._value.get()
    aid, delivery_id = await ended_with_webhook(sessions, webhook_receiver.url)
    assert await outbox.deliver(sessions, delivery_id, POLICY) == "retrying"
    row = await delivery_of(sessions, aid)
    assert row is not None and row.status == DeliveryStatus.pending and row.attempts == 1
    assert row.last_error == "answered HTTP 500"
    wait_s = (row.next_attempt_at - utcnow()).total_seconds()
    assert 5 < wait_s <= 12  # the first back-off: retry_base_s (10 s) ± 20 %
    assert await outbox.deliver(sessions, delivery_id, POLICY) is None  # not due yet
    assert await outbox.sweep(sessions, POLICY) == {}
    await make_due(sessions, delivery_id)
    assert await outbox.sweep(sessions, POLICY) == {"retrying": 1}
    await make_due(sessions, delivery_id)
    assert await outbox.deliver(sessions, delivery_id, POLICY) == "gave_up"
    row = await delivery_of(sessions, aid)
    assert row is not None and row.status == DeliveryStatus.failed and row.attempts == 3
    assert row.last_error == "answered HTTP 500" and row.delivered_at is None
    await make_due(sessions, delivery_id)
    assert await outbox.deliver(sessions, delivery_id, POLICY) is None  # given up for good
    assert len(webhook_receiver.received) == 3
    assert {h[DELIVERY_HEADER] for h in webhook_receiver.headers} == {str(delivery_id)}  # one key, every attempt
    assert metrics.WEBHOOK_DELIVERIES.labels(outcome="gave_up")._value.get() == gave_up_before + 1


async def test_an_unreachable_receiver_is_retried_and_then_reached(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    from scripts.devinfra import free_port

    aid, delivery_id = await ended_with_webhook(sessions, f"http://127.0.0.1:{free_port()}/nobody-listens")
    assert await outbox.deliver(sessions, delivery_id, POLICY) == "retrying"
    row = await delivery_of(sessions, aid)
    assert row is not None and row.last_error is not None and "ConnectError" in row.last_error
    async with sessions() as session, session.begin():  # the receiver's owner fixed the URL meanwhile
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                              .values(url=webhook_receiver.url, next_attempt_at=utcnow()))
    assert await outbox.sweep(sessions, POLICY) == {"delivered": 1}
    assert len(webhook_receiver.received) == 1


async def test_concurrent_attempts_send_one_request(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    """Jobs, sweepers of several workers: whoever claims the row first sends it; the others do nothing."""
    _, delivery_id = await ended_with_webhook(sessions, webhook_receiver.url)
    outcomes = await asyncio.gather(*(outbox.deliver(sessions, delivery_id, POLICY) for _ in range(6)))
    assert outcomes.count("delivered") == 1 and outcomes.count(None) == 5
    assert len(webhook_receiver.received) == 1


async def test_an_attempt_cut_short_is_retried_after_its_lease(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    """A worker that died mid-attempt (claimed, never recorded) leaves the row to others once its lease ran out."""
    aid, delivery_id = await ended_with_webhook(sessions, webhook_receiver.url)
    assert await outbox._claim(sessions, delivery_id, POLICY) is not None  # …and then the worker died
    assert await outbox.sweep(sessions, POLICY) == {}
    row = await delivery_of(sessions, aid)
    assert row is not None and row.attempts == 1
    assert (row.next_attempt_at - utcnow()).total_seconds() > POLICY.lease_s - 5
    await make_due(sessions, delivery_id)
    assert await outbox.sweep(sessions, POLICY) == {"delivered": 1}
    row = await delivery_of(sessions, aid)
    assert row is not None and row.status == DeliveryStatus.delivered and row.attempts == 2
    assert len(webhook_receiver.received) == 1


async def test_internal_receivers_are_refused_outside_local_runs(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    aid, delivery_id = await ended_with_webhook(sessions, webhook_receiver.url)
    production = dataclasses.replace(POLICY, allow_internal=False)
    assert await outbox.deliver(sessions, delivery_id, production) == "retrying"
    row = await delivery_of(sessions, aid)
    assert row is not None and row.last_error is not None and row.last_error.startswith("host refused")
    assert webhook_receiver.received == []


async def test_a_deleted_analysis_takes_its_delivery_with_it(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    aid, delivery_id = await ended_with_webhook(sessions, webhook_receiver.url)
    await delete_analysis(sessions, aid)
    assert await delivery_of(sessions, aid) is None
    assert await outbox.deliver(sessions, delivery_id, POLICY) is None
    assert webhook_receiver.received == []


def test_backoff_doubles_with_jitter_up_to_its_cap() -> None:
    waits = [backoff_s(n, 10.0, 3600.0) for n in range(12)]
    assert 8 <= waits[0] <= 12 and 16 <= waits[1] <= 24 and 64 <= waits[3] <= 96
    assert all(w <= 3600 * 1.2 for w in waits) and waits[11] >= 3600 * 0.8


async def aged(sessions: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID, status: DeliveryStatus,
               age: timedelta) -> None:
    """Make a delivery ``status``, created (and, when delivered, delivered) ``age`` ago."""
    when = utcnow() - age
    async with sessions() as session, session.begin():
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(
            status=status, created_at=when, delivered_at=when if status == DeliveryStatus.delivered else None))


async def test_ended_deliveries_past_their_retention_are_pruned_pending_ones_never(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    week, day = timedelta(days=7), timedelta(days=1)
    ages = {
        "old delivered": (DeliveryStatus.delivered, week + day),
        "recent delivered": (DeliveryStatus.delivered, day),
        "old given up": (DeliveryStatus.failed, week + day),
        "recent given up": (DeliveryStatus.failed, day),
        "old pending": (DeliveryStatus.pending, week + day),  # a receiver down for long: still to be retried
    }
    rows: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
    for name, (status, age) in ages.items():
        aid, delivery_id = await ended_with_webhook(sessions, "https://hooks.example.org/bloomwell")
        await aged(sessions, delivery_id, status, age)
        rows[name] = (aid, delivery_id)

    assert await outbox.prune(sessions, 0) == 0  # retention 0 keeps everything
    assert await outbox.prune(sessions, week.total_seconds()) >= 2
    kept = {name for name, (aid, _) in rows.items() if await delivery_of(sessions, aid) is not None}
    assert kept == {"recent delivered", "recent given up", "old pending"}
    async with sessions() as session:  # the analyses themselves stay
        assert await session.scalar(select(func.count()).select_from(Analysis).where(
            Analysis.id.in_([aid for aid, _ in rows.values()]))) == len(rows)
    assert await outbox.prune(sessions, week.total_seconds()) == 0


async def test_pruning_runs_in_batches_until_done(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "PRUNE_BATCH", 2)
    analyses = []
    for _ in range(5):
        aid, delivery_id = await ended_with_webhook(sessions, "https://hooks.example.org/bloomwell")
        await aged(sessions, delivery_id, DeliveryStatus.delivered, timedelta(hours=2))
        analyses.append(aid)
    assert await outbox.prune(sessions, 3600) >= 5
    assert [await delivery_of(sessions, aid) for aid in analyses] == [None] * 5


async def test_the_sweeper_prunes_at_its_own_pace(
    sessions: async_sessionmaker[AsyncSession], webhook_receiver: WebhookReceiver
) -> None:
    sweeper = outbox.OutboxSweeper(sessions, POLICY, retention_s=3600, prune_every_s=3600)
    old, old_delivery = await ended_with_webhook(sessions, webhook_receiver.url)
    await aged(sessions, old_delivery, DeliveryStatus.delivered, timedelta(hours=2))
    due, _ = await ended_with_webhook(sessions, webhook_receiver.url)
    outcomes = await sweeper()
    assert outcomes["delivered"] == 1 and outcomes["pruned"] >= 1
    assert await delivery_of(sessions, old) is None
    row = await delivery_of(sessions, due)
    assert row is not None and row.status == DeliveryStatus.delivered  # delivered just now: kept
    later, later_delivery = await ended_with_webhook(sessions, webhook_receiver.url)
    await aged(sessions, later_delivery, DeliveryStatus.delivered, timedelta(hours=2))
    assert "pruned" not in await sweeper()  # within prune_every_s of the last pruning
    assert await delivery_of(sessions, later) is not None
    sweeper.last_prune -= 3600
    assert (await sweeper())["pruned"] >= 1 and await delivery_of(sessions, later) is None
