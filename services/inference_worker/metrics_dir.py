"""The folder of prometheus-client's multiprocess mode, set up before prometheus_client is first imported (its
value class is chosen at import time); kept apart from :mod:`services.inference_worker.metrics`, which imports it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The variable prometheus_client reads (in this process and the pool processes it forks)."""


def prepare_multiprocess_dir(configured: Path | None) -> tuple[Path, bool]:
    """Point prometheus_client at an empty folder: ``configured`` (``PROMETHEUS_MULTIPROC_DIR``, emptied: files of an
    earlier run would add to this run's counts) or a new temporary one. Returns it and whether it was made here
    (then it is removed at shutdown)."""
    if configured is not None:
        shutil.rmtree(configured, ignore_errors=True)
        configured.mkdir(parents=True, exist_ok=True)
        path, made = configured, False
    else:
        path, made = Path(tempfile.mkdtemp(prefix="bloomwell-worker-metrics-")), True
    os.environ[MULTIPROC_ENV] = str(path)  # for prometheus_client, which reads it on import
    return path, made
