"""Container health check of an inference worker, costing milliseconds: the worker's heartbeat file is fresh and
its process is alive. Imports neither Celery nor the ML stack.

    python -m services.inference_worker.healthcheck [--file PATH] [--max-age-s N]

Exit status 0 = healthy, 1 = not (with one line saying why). Defaults: ``WORKER_HEARTBEAT_FILE``,
``WORKER_HEARTBEAT_MAX_AGE_S`` (45 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from services.common.workers import DEFAULT_HEARTBEAT_MAX_AGE_S, heartbeat_file_from_env


def check(path: Path, max_age_s: float) -> tuple[bool, str]:
    """(healthy, reason) for the heartbeat file at ``path``."""
    try:
        beat = json.loads(path.read_text())
        age = time.time() - float(beat["time"])
        pid = int(beat["pid"])
    except FileNotFoundError:
        return False, f"no heartbeat file at {path} (the worker has not started taking jobs)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return False, f"unreadable heartbeat file {path}: {exc}"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False, f"the worker process {pid} is gone"
    except PermissionError:
        pass  # it exists, owned by someone else
    if age > max_age_s:
        return False, f"last heartbeat {age:.0f} s ago (more than {max_age_s:.0f} s)"
    return True, f"{beat.get('name', 'worker')} beat {age:.1f} s ago"


def main(argv: list[str] | None = None) -> int:
    """Print the verdict; 0 when healthy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=heartbeat_file_from_env())
    parser.add_argument("--max-age-s", type=float,
                        default=float(os.environ.get("WORKER_HEARTBEAT_MAX_AGE_S") or DEFAULT_HEARTBEAT_MAX_AGE_S))
    args = parser.parse_args(argv)
    healthy, reason = check(args.file, args.max_age_s)
    print(("ok: " if healthy else "unhealthy: ") + reason)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
