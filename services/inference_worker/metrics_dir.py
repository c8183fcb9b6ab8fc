"""The folder of prometheus-client's multiprocess mode, set up before prometheus_client is first imported (its
value class is chosen at import time); kept apart from :mod:`services.inference_worker.metrics`, which imports it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_dir() -> tuple[Path, bool]:
    """Point ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder; returns it and whether it was made here (then it is
    removed at shutdown). A configured folder is emptied: files of an earlier run would add to this run's counts."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        path = Path(configured)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        return path, False
    path = Path(tempfile.mkdtemp(prefix="bloomwell-worker-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    return path, True


def metrics_port() -> int:
    """``WORKER_METRICS_PORT`` as the worker settings read it (0 = metrics off)."""
    from services.inference_worker.config import get_settings

    return get_settings().worker_metrics_port
