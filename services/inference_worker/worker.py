"""Celery entry point of the inference worker.

Run it with::

    celery -A services.inference_worker.worker worker -Q inference --concurrency 1

Use the prefork pool (default; one model per child process), ``-P solo``, or ``-P threads --concurrency N``
(N jobs at once in one process sharing one model and one forward-pass thread: ``WORKER_JOBS=N``; what a GPU
worker wants). Each process builds its runtime (event loop, DB engine, model, detector) once, right after it
starts, so the first job does not pay for loading the model.

This module builds the worker's Celery app from its settings (``app``, which ``celery -A`` finds), registers the
task body :func:`services.inference_worker.tasks.analyze_video` on it, and wires the process's life: logging, the
runtime, the heartbeat (``services.common.heartbeat``), the recovery sweep and the metrics server.
"""

from __future__ import annotations

import os

# Idle OpenMP threads sleep instead of spinning: on a CPU shared with other processes, spinning threads made
# small-batch inference several times slower here (see bench/README.md). Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from services.inference_worker.config import get_settings  # noqa: E402
from services.inference_worker.metrics_dir import prepare_multiprocess_dir  # noqa: E402

# Fail fast: settings (including secret files such as WEBHOOK_SECRET_FILE) are read when the worker starts, so a
# misconfiguration stops it with a clear message instead of failing every job.
_settings = get_settings()
# Prometheus multiprocess mode: the folder must be known before prometheus_client is imported (by tasks below).
METRICS_PORT = _settings.worker_metrics_port
_metrics_dir = prepare_multiprocess_dir(_settings.prometheus_multiproc_dir) if METRICS_PORT else None

import logging  # noqa: E402
import shutil  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import redis  # noqa: E402
from celery.bootsteps import RUN  # type: ignore[attr-defined]  # noqa: E402  # celery-types omits the states
from celery.signals import (  # noqa: E402
    setup_logging,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from services.common.celery_app import AnalysisQueue, create_celery_app, register_analysis_task  # noqa: E402
from services.common.heartbeat import Heartbeat  # noqa: E402
from services.common.logs import configure_logging  # noqa: E402
from services.inference_worker import tasks  # noqa: E402
from services.inference_worker.metrics import mark_process_dead, start_metrics_server  # noqa: E402
from services.inference_worker.recovery import start_recovery_thread  # noqa: E402
from services.inference_worker.runtime import get_runtime, shutdown_runtime  # noqa: E402

log = logging.getLogger(__name__)

app = create_celery_app(_settings)
"""The Celery app ``celery -A services.inference_worker.worker`` finds, built from the worker's settings."""
analyze_video = register_analysis_task(app, tasks.analyze_video)
"""The analysis task on this app (the gateway queues it with ``services.common.celery_app.AnalysisQueue``)."""

_heartbeat: Heartbeat | None = None
_metrics_server: Any = None


def consumer_running(consumer: Any) -> Callable[[], bool]:
    """A check that Celery's consumer blueprint is in its RUN state (started, connected, not stopping)."""

    def check() -> bool:
        blueprint = getattr(consumer, "blueprint", None)
        return blueprint is None or bool(blueprint.state == RUN)

    return check


@setup_logging.connect
def _on_setup_logging(**_: Any) -> None:
    """Our logging instead of Celery's: ``LOG_FORMAT`` (text/json), ``LOG_LEVEL``, the analysis id on job lines."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)


def _warm_up() -> None:
    try:
        get_runtime().warm_up()
    except Exception:  # the worker stays up; jobs then fail with a clear "model not available"
        log.exception("could not load the emotion model / face detector at start-up")


@worker_process_init.connect
def _on_process_init(**_: Any) -> None:
    """Prefork child: build this process's runtime after the fork."""
    _warm_up()


@worker_init.connect
def _on_worker_init(sender: Any = None, **_: Any) -> None:
    """Solo and threads pools: tasks run in the main process, so build the runtime here (prefork does it per
    child)."""
    pool = str(getattr(sender, "pool_cls", "")).lower()
    if "solo" in pool or "thread" in pool:
        _warm_up()


@worker_ready.connect
def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    """Main process: start the heartbeat, and sweep for jobs whose broker message was lost, now and every
    RECOVERY_INTERVAL_S."""
    global _heartbeat
    settings = get_settings()
    name = str(getattr(sender, "hostname", None) or f"worker-{os.getpid()}")
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    _heartbeat = Heartbeat(name, client, settings.worker_heartbeat_file, settings.worker_heartbeat_interval_s,
                           alive=consumer_running(sender)).start()
    start_recovery_thread(AnalysisQueue(app, settings.inference_queue))
    global _metrics_server
    if _metrics_dir is not None and _metrics_server is None:
        try:
            _metrics_server = start_metrics_server(METRICS_PORT, settings.worker_metrics_host, settings.broker_url,
                                                   settings.inference_queue, _metrics_dir[0])
        except OSError as exc:  # e.g. the port is taken by another worker on this host: jobs still run
            log.error("could not serve worker metrics on port %d: %s", METRICS_PORT, exc)


@worker_process_shutdown.connect
def _on_process_shutdown(pid: int | None = None, **_: Any) -> None:
    shutdown_runtime()
    if _metrics_dir is not None:
        mark_process_dead(pid or os.getpid(), _metrics_dir[0])


@worker_shutdown.connect
def _on_worker_shutdown(**_: Any) -> None:
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None
    shutdown_runtime()
    if _metrics_server is not None:
        _metrics_server.shutdown()
    if _metrics_dir is not None and _metrics_dir[1]:
        shutil.rmtree(_metrics_dir[0], ignore_errors=True)
