"""Container health check of an inference worker, costing milliseconds: the worker's heartbeat file is fresh and
its process is alive. Imports neither Celery, Redis nor the ML stack.

    python -m services.inference_worker.healthcheck [--file PATH] [--max-age-s N]

Exit status 0 = healthy, 1 = not (with one line saying why). Defaults: ``WORKER_HEARTBEAT_FILE``,
``WORKER_HEARTBEAT_MAX_AGE_S`` (``services.common.heartbeat.HeartbeatSettings``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from services.common.heartbeat import HeartbeatSettings, check_heartbeat_file


def main(argv: list[str] | None = None) -> int:
    """Print the verdict; 0 when healthy."""
    settings = HeartbeatSettings()
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--file", type=Path, default=settings.worker_heartbeat_file)
    parser.add_argument("--max-age-s", type=float, default=settings.worker_heartbeat_max_age_s)
    args = parser.parse_args(argv)
    healthy, reason = check_heartbeat_file(args.file, args.max_age_s)
    print(("ok: " if healthy else "unhealthy: ") + reason)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
