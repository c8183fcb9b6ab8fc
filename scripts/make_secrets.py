"""Create the secrets ``docker compose`` mounts (``make secrets``): the auth service's RS256 signing key and the
webhook signing secret, in ``infra/secrets/`` (or ``--dir``).

Existing files are kept (never rotated by accident); every file is made mode 0640 with group
``--gid`` (default 1000, the group of the ``bloomwell`` user the images run as), because Docker bind-mounts
file secrets with their host ownership and mode: a root-owned 0600 key is unreadable inside the container.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from services.common.security.tokens import generate_private_key_pem

SERVICE_GID = 1000
"""The group of the ``bloomwell`` user in the service images (infra/docker/*.Dockerfile)."""

SECRETS = {
    "jwt_private_key.pem": generate_private_key_pem,
    "webhook_secret": lambda: secrets.token_urlsafe(48) + "\n",
}


def make_secret(path: Path, create: Callable[[], str], gid: int) -> str:
    """Create ``path`` unless it exists, then set mode 0640 and group ``gid``; returns what was done."""
    done = "kept"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(create())
        done = "created"
    if path.stat().st_gid != gid:
        try:
            os.chown(path, -1, gid)
        except PermissionError as exc:
            raise SystemExit(
                f"cannot give {path} to group {gid} ({exc.strerror}); run `sudo chgrp {gid} {path}` "
                f"(the services run as uid/gid {SERVICE_GID} and must read it)"
            ) from exc
    path.chmod(0o640)
    return done


def main(argv: list[str] | None = None) -> int:
    """Create or fix every secret file; prints one line per file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=Path("infra/secrets"))
    parser.add_argument("--gid", type=int, default=int(os.environ.get("SECRETS_GID", SERVICE_GID)))
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    for name, create in SECRETS.items():
        path = args.dir / name
        print(f"{path}: {make_secret(path, create, args.gid)} (mode 0640, group {args.gid})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
