"""Helpers of the operations tests: run a command the way the images run the services, without root's power to
read any file."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

SERVICE_UID = 1000
NOBODY_ELSE = 4242
"""Owner of files made unreadable for the test process."""


def unprivileged(command: list[str]) -> list[str]:
    """``command`` without the capabilities that let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a
    0600 file of another user is unreadable to it as it is to the service uid in a container. Unchanged when the
    tests do not run as root."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise RuntimeError("setpriv (util-linux) is needed to drop root's file capabilities")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", *command]


def make_unreadable(path: Path) -> None:
    """Make ``path`` unreadable to :func:`unprivileged` commands (another owner, mode 0600)."""
    if os.geteuid() == 0:
        os.chown(path, NOBODY_ELSE, NOBODY_ELSE)
        path.chmod(0o600)
    else:
        path.chmod(0o000)


def as_service_user() -> dict[str, object]:
    """``subprocess`` keyword arguments running a (system) binary as uid/gid 1000 when the tests run as root."""
    if os.geteuid() != 0:
        return {}
    return {"user": SERVICE_UID, "group": SERVICE_UID, "extra_groups": []}


def shared_tmpdir() -> Path:
    """A temporary folder another uid can enter (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="bloomwell-ops-"))
    path.chmod(0o755)
    return path
