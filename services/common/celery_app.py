"""The one Celery app shared by the gateway (producer) and the inference worker (consumer)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

ANALYZE_TASK = "bloomwell.analyze_video"
INFERENCE_QUEUE = "inference"


def _broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def create_celery_app(broker_url: str | None = None) -> Celery:
    """Build the Celery app; reliability settings live here so producer and consumer agree."""
    broker = broker_url or _broker_url()
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
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )
    return app


celery_app = create_celery_app()
