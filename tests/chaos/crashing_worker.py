"""A real Celery worker (``python -m tests.chaos.crashing_worker <celery worker arguments>``) that kill -9s its whole
process group the moment it would first attempt a webhook delivery: after a job's end (result, status and outbox row)
was committed and before anything is sent. It writes its pid to ``$CHAOS_CRASH_MARK`` first, so the test can tell that
the crash happened there.

The hook replaces ``outbox.deliver`` (looked up at call time by the task's notify stage and by the sweeper) before
Celery starts, so pool children forked later carry it; nothing in the product knows about it.
"""

from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

from services.inference_worker import outbox


async def _crash(factory: Any, delivery_id: uuid.UUID, policy: Any) -> str | None:
    Path(os.environ["CHAOS_CRASH_MARK"]).write_text(f"{os.getpid()} {delivery_id}\n")
    os.killpg(os.getpgid(0), signal.SIGKILL)
    return None  # not reached


def main() -> None:
    outbox.deliver = _crash
    from celery.__main__ import main as celery_main

    sys.argv = ["celery", *sys.argv[1:]]
    celery_main()


if __name__ == "__main__":
    main()
