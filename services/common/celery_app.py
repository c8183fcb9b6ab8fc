"""The one Celery app shared by the gateway (producer) and the inference worker (consumer)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

ANALYZE_TASK = "bloomwell.analyze_video"
INFERENCE_QUEUE = "inference"


def _broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def time_limits() -> tuple[int, int]:
    """(soft, hard) per-job time limits in seconds: ``TASK_SOFT_TIME_LIMIT_S`` / ``TASK_TIME_LIMIT_S``."""
    return int(os.environ.get("TASK_SOFT_TIME_LIMIT_S", "300")), int(os.environ.get("TASK_TIME_LIMIT_S", "360"))


def visibility_timeout_s() -> int:
    """How long a message a worker took may stay unacknowledged before the broker hands it out again.

    Just above the hard time limit (by ``BROKER_VISIBILITY_MARGIN_S``, default 60 s): no live job runs
    that long, so only messages of dead workers (``kill -9``, out-of-memory kill, lost node) come back,
    and they come back within this bound instead of kombu's default hour.
    """
    return time_limits()[1] + int(os.environ.get("BROKER_VISIBILITY_MARGIN_S", "60"))


def create_celery_app(broker_url: str | None = None) -> Celery:
    """Build the Celery app; reliability settings live here so producer and consumer agree."""
    broker = broker_url or _broker_url()
    soft_limit_s, hard_limit_s = time_limits()
    app = Celery("bloomwell", broker=broker, backend=os.environ.get("CELERY_RESULT_BACKEND") or broker)
    app.conf.update(
        task_queues=[Queue(INFERENCE_QUEUE)],
        task_default_queue=INFERENCE_QUEUE,
        task_routes={ANALYZE_TASK: {"queue": INFERENCE_QUEUE}},
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_expires=3600,
        task_ignore_result=True,
        # A job is acknowledged only once it finished; a worker that dies hands it back to the queue.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=soft_limit_s,
        task_time_limit=hard_limit_s,
        broker_connection_retry_on_startup=True,
        # every live worker scans for expired reservations every 10 s (kombu's default scans every 10th tick)
        broker_transport_options={"visibility_timeout": visibility_timeout_s(), "unacked_restore_throttle": 1},
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = create_celery_app()
