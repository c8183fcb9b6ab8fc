"""The inference worker's Prometheus metrics, served on ``WORKER_METRICS_PORT`` (default 9108, 0 = off).

Jobs run in pool child processes (prefork, the default) or in the main process (solo, threads), so the metrics use
prometheus-client's multiprocess mode in every case: each process writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder set up by :mod:`services.inference_worker.metrics_dir` in the main
process before prometheus_client is imported, inherited by forked children) and the main process's HTTP server adds
them up at scrape time. The queue depth is not stored anywhere: a custom collector asks Redis (``LLEN`` of the Celery
queue) when Prometheus scrapes.

Series (no analysis ids or user data in labels):

* ``bloomwell_worker_jobs_total{outcome}``: jobs ended, by ``succeeded``, ``failed``, ``deleted``, ``skipped``,
  ``retried``, ``invalid``
* ``bloomwell_worker_job_failures_total{error_code}``: failed jobs by ``error_code``
* ``bloomwell_worker_stage_duration_seconds{stage}``: time per :class:`~services.common.analysis.Stage` of a job
* ``bloomwell_worker_job_duration_seconds``: claim to end of a job
* ``bloomwell_worker_frames_processed_total`` / ``bloomwell_worker_faces_processed_total``: sampled frames and
  faces classified (faces/s: ``rate(bloomwell_worker_faces_processed_total[1m])``)
* ``bloomwell_worker_jobs_in_flight``: jobs running now (summed over live processes)
* ``bloomwell_worker_queue_depth{queue}``: messages waiting in the broker queue, read at scrape time
* ``bloomwell_worker_webhook_deliveries_total{outcome}``: webhook attempts, by ``delivered``, ``retrying`` (failed,
  to be tried again), ``gave_up`` (failed ``WEBHOOK_MAX_ATTEMPTS`` times), ``gone`` (deleted with its analysis)
* ``bloomwell_worker_webhook_pending``: deliveries not yet delivered nor given up, counted at each outbox sweep
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

log = logging.getLogger(__name__)

STAGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0, 120.0, 300.0)


JOBS = Counter("bloomwell_worker_jobs", "Analysis jobs ended, by outcome", ["outcome"])
FAILURES = Counter("bloomwell_worker_job_failures", "Failed analysis jobs, by error_code", ["error_code"])
STAGE_SECONDS = Histogram("bloomwell_worker_stage_duration_seconds", "Seconds a job spent in each stage", ["stage"],
                          buckets=STAGE_BUCKETS)
JOB_SECONDS = Histogram("bloomwell_worker_job_duration_seconds", "Seconds from claim to end of a job",
                        buckets=STAGE_BUCKETS)
FRAMES = Counter("bloomwell_worker_frames_processed", "Sampled video frames analysed")
FACES = Counter("bloomwell_worker_faces_processed", "Faces detected and classified")
IN_FLIGHT = Gauge("bloomwell_worker_jobs_in_flight", "Jobs running now", multiprocess_mode="livesum")
WEBHOOK_DELIVERIES = Counter("bloomwell_worker_webhook_deliveries", "Webhook delivery attempts, by outcome",
                             ["outcome"])
WEBHOOK_PENDING = Gauge("bloomwell_worker_webhook_pending", "Webhook deliveries waiting (counted at each outbox sweep)",
                        multiprocess_mode="livemax")


class QueueDepthCollector(Collector):
    """``bloomwell_worker_queue_depth``: ``LLEN`` of the broker queue, asked of Redis at each scrape."""

    def __init__(self, redis_url: str, queue: str) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.queue = queue

    def collect(self) -> Iterator[GaugeMetricFamily]:
        import redis

        family = GaugeMetricFamily("bloomwell_worker_queue_depth", "Messages waiting in the broker queue",
                                   labels=["queue"])
        try:
            family.add_metric([self.queue], float(self.client.llen(self.queue)))
        except redis.RedisError as exc:  # a scrape without the series says "unknown", not "empty"
            log.warning("could not read the queue depth: %s", exc)
            return
        yield family


class DeadProcessSweeper(Collector):
    """Before each scrape, drops the live gauges of pool processes that no longer exist (a child killed with
    ``SIGKILL`` or by the OOM killer never runs its shutdown hook, and would count as in flight for ever)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for path in self.directory.glob("gauge_live*_*.db"):
            suffix = path.stem.rsplit("_", 1)[-1]
            if not suffix.isdigit() or int(suffix) == os.getpid():
                continue
            pid = int(suffix)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                mark_process_dead(pid, self.directory)
            except PermissionError:
                continue
        return iter(())


def start_metrics_server(port: int, host: str, redis_url: str, queue: str, directory: Path) -> WSGIServer:
    """Serve every process's metrics (their files in ``directory``, the multiprocess folder) plus the queue depth on
    ``host:port`` (a daemon thread of the caller)."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    registry.register(DeadProcessSweeper(directory))
    MultiProcessCollector(registry, path=str(directory))
    registry.register(QueueDepthCollector(redis_url, queue))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    log.info("worker metrics on http://%s:%d/metrics", host, port)
    return server


def mark_process_dead(pid: int, directory: Path | None = None) -> None:
    """Drop a finished pool process's live gauges (its counters stay counted)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(directory) if directory else None)
