"""Serve this machine's local wheel mirrors (/opt/pypi, /opt/pypi-more: pip's extra-index-url here) as one PEP 503
index over HTTP, so a `docker build` can install torch from local disk (CPU_TORCH_INDEX_URL=http://HOST:PORT/simple).
Projects the mirrors lack are redirected to PyPI's simple index (the host's pip falls back to PyPI the same way).

Usage: python3 scripts/local_wheel_index.py BIND PORT OUTDIR [MIRROR...]
"""

from __future__ import annotations

import functools
import http.server
import re
import sys
from pathlib import Path


def build(out: Path, mirrors: list[Path]) -> None:
    """Write OUTDIR/simple/<project>/index.html linking to OUTDIR/m<i>/files/ (symlinks to the mirrors)."""
    links: dict[str, list[str]] = {}
    for i, mirror in enumerate(mirrors):
        alias = out / f"m{i}"
        if not alias.exists():
            alias.symlink_to(mirror)
        for page in sorted((mirror / "simple").glob("*/index.html")):
            hrefs = re.findall(r'href="\.\./\.\./files/([^"]+)"', page.read_text())
            anchors = [f'<a href="/m{i}/files/{h}">{h.split("#")[0]}</a>' for h in hrefs]
            links.setdefault(page.parent.name, []).extend(anchors)
    for project, anchors in links.items():
        (out / "simple" / project).mkdir(parents=True, exist_ok=True)
        page = "<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n"
        (out / "simple" / project / "index.html").write_text(page)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files; ``/simple/<project>/`` missing here answers a redirect to PyPI."""

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 2 and parts[0] == "simple" and not Path(self.directory, "simple", parts[1]).is_dir():
            self.send_response(302)
            self.send_header("Location", f"https://pypi.org/simple/{parts[1]}/")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the stdlib's name)
        """Quiet."""


def main() -> None:
    bind, port, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    mirrors = [Path(m) for m in sys.argv[4:]] or [Path("/opt/pypi"), Path("/opt/pypi-more")]
    out.mkdir(parents=True, exist_ok=True)
    build(out, [m for m in mirrors if (m / "simple").is_dir()])
    handler = functools.partial(Handler, directory=str(out))
    http.server.ThreadingHTTPServer((bind, port), handler).serve_forever()


if __name__ == "__main__":
    main()
