"""Compressed responses: the web app's precompressed assets (.br/.gz written at build) and gzip for API JSON."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.api.config import ApiSettings
from services.api.main import create_app
from services.api.webapp import accepted_encodings

SCRIPT = b"console.log('bloomwell');\n" * 200
BROTLI_STANDIN = b"pretend-brotli"  # the gateway sends the .br file as is; it never decodes it


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A built app as vite writes it: index.html, one script with its .gz and .br, and a file without variants."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Bloomwell</title>")
    (tmp_path / "assets" / "app.js").write_bytes(SCRIPT)
    (tmp_path / "assets" / "app.js.gz").write_bytes(gzip.compress(SCRIPT))
    (tmp_path / "assets" / "app.js.br").write_bytes(BROTLI_STANDIN)
    (tmp_path / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    return tmp_path


@pytest.fixture
async def web(api_settings: ApiSettings, dist: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings.model_copy(update={"frontend_dist": dist}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver") as client:
        yield client


async def test_brotli_is_preferred_then_gzip_then_the_plain_file(web: httpx.AsyncClient) -> None:
    br = await web.get("/assets/app.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.status_code == 200
    assert br.headers["content-encoding"] == "br"
    assert br.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert br.headers["vary"] == "Accept-Encoding"
    assert br.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert br.headers["content-length"] == str(len(BROTLI_STANDIN))

    gz = await web.get("/assets/app.js", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.content == SCRIPT  # httpx decodes it: the .gz is the same script
    assert int(gz.headers["content-length"]) < len(SCRIPT)

    refused = await web.get("/assets/app.js", headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"

    plain = await web.get("/assets/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.content == SCRIPT


async def test_files_without_variants_and_app_routes_are_served_plain(web: httpx.AsyncClient) -> None:
    icon = await web.get("/favicon.svg", headers={"Accept-Encoding": "gzip, br"})
    assert icon.status_code == 200
    assert "content-encoding" not in icon.headers  # under the gzip minimum
    route = await web.get("/analyses/123", headers={"Accept-Encoding": "gzip, br"})
    assert route.status_code == 200
    assert "<title>Bloomwell</title>" in route.text
    assert route.headers["cache-control"] == "no-cache"


async def test_api_json_is_gzipped_when_accepted_and_large_enough(web: httpx.AsyncClient) -> None:
    schema = await web.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert schema.status_code == 200
    assert schema.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in schema.headers["vary"]
    assert schema.json()["info"]["title"] == "Bloomwell API"
    raw = await web.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert int(schema.headers["content-length"]) * 3 < len(raw.content)
    assert zlib.decompress(gzip.compress(raw.content), 31) == raw.content
    small = await web.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 1 KB: not worth it


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", set()),
        ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}),
        ("br;q=0, gzip;q=0.5", {"gzip"}),
        ("GZIP ; q=1", {"gzip"}),
        ("*", {"*", "br", "gzip"}),
        ("*, br;q=0", {"*", "gzip"}),
        ("gzip;q=nonsense", set()),
    ],
)
def test_accept_encoding_parsing(header: str, expected: set[str]) -> None:
    assert accepted_encodings(header) == expected
