"""The job queue between the gateway and the inference worker: the Celery app built from :class:`QueueSettings`,
and the one task on it, typed on both sides.

* Producer (gateway, recovery sweep): :class:`AnalysisQueue.enqueue` puts an analysis on the queue.
* Consumer (worker): :func:`register_analysis_task` registers the worker's task body,
  :func:`services.inference_worker.tasks.analyze_video`, under the same name and with the reliability options
  below; ``services.inference_worker.worker`` does that for the app it builds.

Nothing is built at import: each process makes its app from its own settings.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Final

from celery import Celery, Task
from kombu import Queue

from services.common.settings import QueueSettings

ANALYZE_TASK: Final = "bloomwell.analyze_video"
"""The task's name on the wire (producer and consumer use it only through this module)."""

AnalysisTaskBody = Callable[[Any, str], str]
"""The worker's task body: ``(bound task, analysis id) -> outcome``."""


def create_celery_app(settings: QueueSettings) -> Celery:
    """The Celery app for ``settings``; reliability settings live here so producer and consumer agree."""
    app = Celery("bloomwell", broker=settings.broker_url, backend=settings.result_backend)
    queue = settings.inference_queue
    app.conf.update(
        task_queues=[Queue(queue)],
        task_default_queue=queue,
        task_routes={ANALYZE_TASK: {"queue": queue}},
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        result_expires=3600,
        task_ignore_result=True,
        # A job is acknowledged only once it finished; a worker that dies hands it back to the queue.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=settings.task_soft_time_limit_s,
        task_time_limit=settings.task_time_limit_s,
        broker_connection_retry_on_startup=True,
        # every live worker scans for expired reservations every 10 s (kombu's default scans every 10th tick)
        broker_transport_options={"visibility_timeout": settings.visibility_timeout_s, "unacked_restore_throttle": 1},
        worker_send_task_events=False,
        worker_hijack_root_logger=False,
    )
    return app


class AnalysisQueue:
    """The producer side of the analysis task: puts analyses on the inference queue of ``app``."""

    def __init__(self, app: Celery, queue: str) -> None:
        self.app = app
        self.queue = queue

    @classmethod
    def for_settings(cls, settings: QueueSettings) -> AnalysisQueue:
        """A queue on a new app built from ``settings``."""
        return cls(create_celery_app(settings), settings.inference_queue)

    def enqueue(self, analysis_id: uuid.UUID) -> None:
        """Queue the analysis of ``analysis_id`` for :func:`services.inference_worker.tasks.analyze_video`
        (blocking: a broker round trip). The message id is the analysis id, so the recovery sweep can tell
        which analyses have a message."""
        self.app.send_task(ANALYZE_TASK, args=[str(analysis_id)], queue=self.queue, task_id=str(analysis_id))


def register_analysis_task(app: Celery, body: AnalysisTaskBody) -> Task[Any, str]:
    """The consumer side: ``body`` registered on ``app`` as the analysis task, acknowledged only when it ends
    (a worker that dies hands the message back) and retried without a fixed bound (the body bounds its retries)."""
    task: Task[Any, str] = app.task(name=ANALYZE_TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
                                    max_retries=None)(body)
    return task
