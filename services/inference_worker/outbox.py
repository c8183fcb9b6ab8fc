"""The webhook outbox: an analysis's callback is a row (``WebhookDelivery``) written in the transaction that ends the
analysis (``persist.store``), then delivered — at once by the job (:func:`deliver`) and,
whenever that did not succeed, by a sweeper in every worker's main process (:func:`sweep`, every
``WEBHOOK_SWEEP_INTERVAL_S``) with exponential back-off, until the receiver answers 2xx or ``WEBHOOK_MAX_ATTEMPTS``
attempts have failed (the row then says ``failed``; every failed attempt records ``last_error``).

A crash between the commit and the POST therefore delays the callback instead of losing it. Each attempt first claims
the row (a compare-and-set on ``attempts`` and ``next_attempt_at``, portable to SQLite), so two workers never send one
delivery at once; a worker that dies mid-attempt leaves the row to be tried again once its lease
(``WEBHOOK_TIMEOUT_S`` + :data:`LEASE_MARGIN_S`) has passed. A receiver can still see one delivery twice (the answer
was lost, or the worker died after sending): every attempt carries the same idempotency key in the signed
``X-Bloomwell-Delivery`` header (:mod:`services.inference_worker.webhook`).

Ended rows do not pile up: every :data:`PRUNE_EVERY_S` the sweeper also deletes the deliveries that ended longer than
``WEBHOOK_RETENTION_S`` ago (:func:`prune`); pending ones are never pruned.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.db import create_engine, create_sessionmaker
from services.common.models import DeliveryStatus, WebhookDelivery, utcnow
from services.inference_worker import metrics
from services.inference_worker.config import WorkerSettings
from services.inference_worker.recovery import run_periodically
from services.inference_worker.webhook import encode_payload, post, signed_headers

log = logging.getLogger(__name__)

LEASE_MARGIN_S = 30.0
"""An attempt's claim on its row outlasts the attempt's own time limit by this much."""
SWEEP_BATCH = 20
"""Deliveries one sweep attempts at most (concurrently); the next sweep takes the rest."""
PRUNE_EVERY_S = 600.0
"""How often a worker's sweeper also prunes ended deliveries."""
PRUNE_BATCH = 1000
"""Rows one pruning transaction deletes at most (short transactions; a pruning repeats them until done)."""


def backoff_s(attempt: int, base_s: float, cap_s: float) -> float:
    """Exponential back-off with jitter: about ``base_s`` × 1, 2, 4 … after attempt 0, 1, 2 …, at most ``cap_s``
    (± 20 %)."""
    return min(cap_s, base_s * 2.0 ** min(attempt, 60)) * random.uniform(0.8, 1.2)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How deliveries are signed, bounded and retried (``WEBHOOK_*`` settings)."""

    secret: str
    timeout_s: float
    max_attempts: int
    retry_base_s: float
    retry_max_s: float
    allow_internal: bool

    @classmethod
    def for_settings(cls, settings: WorkerSettings) -> DeliveryPolicy:
        """The worker's policy; internal hosts are allowed only in local runs (as the gateway checks them)."""
        return cls(secret=settings.webhook_secret, timeout_s=settings.webhook_timeout_s,
                   max_attempts=settings.webhook_max_attempts, retry_base_s=settings.webhook_retry_base_s,
                   retry_max_s=settings.webhook_retry_max_s, allow_internal=settings.is_local)

    @property
    def lease_s(self) -> float:
        """How long a claimed attempt keeps its row from other workers."""
        return self.timeout_s + LEASE_MARGIN_S


@dataclass(frozen=True, slots=True)
class _Claimed:
    url: str
    payload: dict[str, Any]
    attempts: int


async def _claim(factory: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID,
                 policy: DeliveryPolicy) -> _Claimed | None:
    """Take the delivery for one attempt if it is pending and due (counting the attempt); None otherwise."""
    now = utcnow()
    async with factory() as session, session.begin():
        row = (await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == DeliveryStatus.pending,
                   WebhookDelivery.next_attempt_at <= now)
            .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + timedelta(seconds=policy.lease_s))
            .returning(WebhookDelivery.url, WebhookDelivery.payload, WebhookDelivery.attempts)
            .execution_options(synchronize_session=False)
        )).first()
    return None if row is None else _Claimed(url=row[0], payload=row[1], attempts=row[2])


async def _record(factory: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID, attempts: int,
                  error: str | None, policy: DeliveryPolicy) -> str:
    """Write an attempt's outcome: ``delivered``, ``retrying`` (due again after the back-off) or ``gave_up``."""
    async with factory() as session, session.begin():
        row = await session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
        if row is None:
            return "gone"
        now = utcnow()
        row.last_error = error
        if error is None:
            row.status, row.delivered_at = DeliveryStatus.delivered, now
            return "delivered"
        if attempts >= policy.max_attempts:
            row.status = DeliveryStatus.failed
            return "gave_up"
        row.next_attempt_at = now + timedelta(seconds=backoff_s(attempts - 1, policy.retry_base_s, policy.retry_max_s))
        return "retrying"


async def deliver(factory: async_sessionmaker[AsyncSession], delivery_id: uuid.UUID,
                  policy: DeliveryPolicy) -> str | None:
    """One attempt of one delivery, if it is pending and due: claim it, POST it (no database connection held
    meanwhile), record the outcome. Returns ``delivered``, ``retrying``, ``gave_up`` or ``gone`` (deleted with its
    analysis meanwhile); None when there was nothing to do (delivered, given up, not due, or another worker's)."""
    claimed = await _claim(factory, delivery_id, policy)
    if claimed is None:
        return None
    body = encode_payload(claimed.payload)
    if not policy.secret:
        log.warning("WEBHOOK_SECRET is not set; sending an unsigned webhook to %s", claimed.url)
    error = await post(claimed.url, body, signed_headers(body, policy.secret, str(delivery_id)), policy.timeout_s,
                       policy.allow_internal)
    outcome = await _record(factory, delivery_id, claimed.attempts, error, policy)
    metrics.WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    if error is not None:
        log.warning("webhook %s to %s, attempt %d/%d: %s (%s)", delivery_id, claimed.url, claimed.attempts,
                    policy.max_attempts, error, outcome.replace("_", " "))
    return outcome


async def sweep(factory: async_sessionmaker[AsyncSession], policy: DeliveryPolicy) -> Counter[str]:
    """Attempt the deliveries that are due (at most :data:`SWEEP_BATCH`, concurrently); what happened, by outcome.
    Also sets ``bloomwell_worker_webhook_pending``."""
    async with factory() as session:
        due = list(await session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.status == DeliveryStatus.pending, WebhookDelivery.next_attempt_at <= utcnow())
            .order_by(WebhookDelivery.next_attempt_at).limit(SWEEP_BATCH)
        ))
    outcomes = await asyncio.gather(*(deliver(factory, delivery_id, policy) for delivery_id in due))
    async with factory() as session:
        pending = await session.scalar(
            select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.pending)
        )
    metrics.WEBHOOK_PENDING.set(pending or 0)
    return Counter(outcome for outcome in outcomes if outcome is not None)


async def prune(factory: async_sessionmaker[AsyncSession], retention_s: float, now: datetime | None = None) -> int:
    """Delete the deliveries that ended more than ``retention_s`` before ``now`` (default: now) — delivered ones
    counted from ``delivered_at``, given-up ones from ``created_at`` (they end within the retry span) — in
    transactions of at most :data:`PRUNE_BATCH` rows; how many were deleted. Pending deliveries are never pruned;
    ``retention_s`` 0 keeps everything. (A pruned delivery is not queued again: an ended job is never ended twice, a
    duplicate message of it is skipped at its claim.)"""
    if retention_s <= 0:
        return 0
    cutoff = (now or utcnow()) - timedelta(seconds=retention_s)
    expired = or_(
        and_(WebhookDelivery.status == DeliveryStatus.delivered, WebhookDelivery.delivered_at < cutoff),
        and_(WebhookDelivery.status == DeliveryStatus.failed, WebhookDelivery.created_at < cutoff),
    )
    total = 0
    while True:
        async with factory() as session, session.begin():
            ids = list(await session.scalars(select(WebhookDelivery.id).where(expired).limit(PRUNE_BATCH)))
            if ids:
                await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                                      .execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < PRUNE_BATCH:
            return total


class OutboxSweeper:
    """One round of a worker's outbox thread: the due deliveries (:func:`sweep`) and, every ``prune_every_s``, the
    pruning of ended ones older than ``retention_s`` (:func:`prune`)."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], policy: DeliveryPolicy, retention_s: float,
                 prune_every_s: float = PRUNE_EVERY_S) -> None:
        self.factory = factory
        self.policy = policy
        self.retention_s = retention_s
        self.prune_every_s = prune_every_s
        self.last_prune = float("-inf")

    async def __call__(self) -> Counter[str]:
        """Sweep, and prune when it is time; the sweep's outcomes, with ``pruned`` (rows deleted) when it pruned."""
        outcomes = await sweep(self.factory, self.policy)
        if time.monotonic() - self.last_prune >= self.prune_every_s:
            self.last_prune = time.monotonic()
            pruned = await prune(self.factory, self.retention_s)
            if pruned:
                log.info("outbox: pruned %d ended webhook deliveries older than %.0f s", pruned, self.retention_s)
                outcomes["pruned"] = pruned
        return outcomes


def start_outbox_thread(settings: WorkerSettings) -> threading.Thread | None:
    """Sweep the outbox every ``WEBHOOK_SWEEP_INTERVAL_S`` (and prune it every :data:`PRUNE_EVERY_S`) on a daemon
    thread of the worker's main process (own event loop and engine); None when the interval is 0. Every worker
    sweeps: the per-row claim keeps them apart."""
    if settings.webhook_sweep_interval_s <= 0:
        return None
    loop = asyncio.new_event_loop()  # used by the sweeper's thread only
    sessions = create_sessionmaker(create_engine(settings.database_url))
    sweeper = OutboxSweeper(sessions, DeliveryPolicy.for_settings(settings), settings.webhook_retention_s)
    return run_periodically("outbox", settings.webhook_sweep_interval_s,
                            lambda: loop.run_until_complete(sweeper()))
