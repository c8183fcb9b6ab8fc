"""scripts.devinfra.stop_process_groups: how the stack runner, the browser and chaos tests and the benchmarks stop
the process groups they start (a polite signal, then SIGKILL for what is still running)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import psutil

from scripts.devinfra import stop_process_groups

# A parent that starts a child in its own process group, says so, and then sleeps; with IGNORE, both ignore SIGTERM.
_FAMILY = """
import signal, subprocess, sys, time
if sys.argv[1] == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def _start(mode: str) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen([sys.executable, "-c", _FAMILY, mode], stdout=subprocess.PIPE, start_new_session=True)
    assert process.stdout is not None
    child_pid = int(process.stdout.readline())
    process.stdout.close()
    return process, child_pid


def _gone(pid: int, timeout_s: float = 60.0) -> bool:
    """Whether ``pid`` ended (gone, or a zombie no one has reaped yet) within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_the_signal_stops_the_whole_group() -> None:
    process, child_pid = _start("obey")
    stop_process_groups([process], timeout_s=60)
    assert process.returncode == -signal.SIGTERM
    assert _gone(child_pid)


def test_a_group_that_ignores_the_signal_is_killed_after_the_timeout() -> None:
    process, child_pid = _start("ignore")
    stop_process_groups([process], timeout_s=1)
    assert process.returncode == -signal.SIGKILL
    assert _gone(child_pid)


def test_a_process_that_already_ended_is_left_alone() -> None:
    process = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    process.wait(timeout=60)
    stop_process_groups([process], timeout_s=1)
    assert process.returncode == 0
