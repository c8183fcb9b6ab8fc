"""`make run` on a fresh clone: seconds from `git clone` to a ready stack (`GET /readyz` answers 200), and the size
of the `.venv` it built (prints figures, asserts nothing).

    python3 bench/bench_setup.py                      # a fresh clone of this checkout's HEAD
    python3 bench/bench_setup.py --repo /work/main --ref main

The clone has no `.venv`, `node_modules` or `frontend/dist`; pip's cache is off and npm gets an empty cache of its
own, as on a fresh machine (the local wheel mirrors pip is configured with stay in use: every machine here has
them). The stack is stopped (SIGINT to `make run`'s process group) once it answered, and the clone removed unless
``--keep``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.devinfra import free_port, stop_process_groups  # noqa: E402


def ready(url: str) -> bool:
    """Whether ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            status: int = response.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


def du(path: Path) -> int:
    """Bytes under ``path`` (as `du -sb`)."""
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", default=str(ROOT), help="repository to clone (default: this checkout)")
    parser.add_argument("--ref", default="HEAD", help="commit or branch to check out")
    parser.add_argument("--timeout", type=float, default=1200)
    parser.add_argument("--keep", action="store_true", help="keep the clone (to inspect its .venv)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bloomwell-setup-"))
    clone = work / "bloomwell"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "DATABASE_URL", "REDIS_URL"))}
    env.update({"PIP_NO_CACHE_DIR": "1", "npm_config_cache": str(work / "npm-cache"), "PORT": str(port),
                "BLOOMWELL_DATA_DIR": str(work / "data")})
    print(f"# make run on a fresh clone of {args.repo} ({args.ref}); load average {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    subprocess.run(["git", "clone", "-q", args.repo, str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", args.ref], check=True)
    log = (work / "make-run.log").open("wb")
    process = subprocess.Popen(["make", "run"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        deadline = t0 + args.timeout
        while not ready(f"http://127.0.0.1:{port}/readyz"):
            if process.poll() is not None:
                sys.exit(f"make run exited with {process.returncode}; log: {work / 'make-run.log'}")
            if time.perf_counter() > deadline:
                sys.exit(f"not ready within {args.timeout:.0f} s; log: {work / 'make-run.log'}")
            time.sleep(0.5)
        seconds = time.perf_counter() - t0
    finally:
        stop_process_groups([process], signal.SIGINT, timeout_s=60)
        log.close()
    venv = clone / ".venv"
    size = du(venv)
    torch = any((venv / "lib").glob("python*/site-packages/torch"))
    print(f"clone → GET /readyz 200: {seconds:.0f} s")
    print(f".venv: {size / 1e9:.2f} GB ({size / 2**30:.2f} GiB); torch installed: {'yes' if torch else 'no'}")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
