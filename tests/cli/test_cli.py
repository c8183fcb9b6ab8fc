"""``bloomwell`` against the real stack: login, analyze --wait (JSON and CSV), list, get, delete, logout, token
refresh, and the exit codes of bad credentials, a missing file, an unknown id and an unreachable API."""

from __future__ import annotations

import csv
import io
import json
import stat
import uuid
from pathlib import Path

import httpx
import pytest

from bloomwell_client.cli import ExitCode
from bloomwell_client.client import BloomwellClient, NotLoggedIn, Tokens, TokenStore
from tests.cli.conftest import Account, Run
from tests.conftest import VIDEOS

pytestmark = pytest.mark.integration

VIDEO = VIDEOS / "fer_test.mp4"


def login(bloomwell: Run, account: Account) -> None:
    done = bloomwell("login", "--email", account.email, "--password-stdin", stdin=account.password + "\n")
    assert done.returncode == 0, done.stderr
    assert f"as {account.email}" in done.stderr


def test_full_session(bloomwell: Run, account: Account, inference_worker: object, tmp_path: Path) -> None:
    login(bloomwell, account)
    credentials = bloomwell.config_dir / "credentials.json"  # type: ignore[attr-defined]
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert account.password not in credentials.read_text()

    out_dir = tmp_path / "results"
    done = bloomwell("analyze", str(VIDEO), "--fps", "3", "--wait", "--out", str(out_dir))
    assert done.returncode == 0, done.stderr
    json_path = Path(done.stdout.strip())
    assert json_path.parent == out_dir and json_path.suffix == ".json"
    analysis_id = json_path.stem.removeprefix("fer_test-")
    document = json.loads(json_path.read_text())
    assert document["schema_version"] == 2 and document["summary"]["frames_analyzed"] > 0
    assert "fer_test.mp4 · done" in done.stderr and "100%" in done.stderr

    second = VIDEOS / "huimiang_1543684773_neutral_to_angry.avi"
    done = bloomwell("analyze", str(VIDEO), str(second), "--fps", "2", "--out", str(out_dir), "--format", "csv")
    assert done.returncode == 0, done.stderr
    written = sorted(Path(line) for line in done.stdout.split())
    assert [path.name.split("-")[0] for path in written] == ["fer_test", second.stem]
    for path in written:
        rows = list(csv.DictReader(io.StringIO(path.read_text())))
        assert path.suffix == ".csv" and rows and "track_id" in rows[0]

    done = bloomwell("list", "--json")
    assert done.returncode == 0, done.stderr
    listed = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(listed) == 3 and all(item["status"] == "succeeded" for item in listed)
    assert analysis_id in {item["id"] for item in listed}
    table = bloomwell("list")
    assert table.returncode == 0 and analysis_id in table.stdout and "succeeded" in table.stdout

    state = bloomwell("get", analysis_id)
    assert state.returncode == 0 and json.loads(state.stdout)["status"] == "succeeded"
    result = bloomwell("get", analysis_id, "--format", "json")
    assert json.loads(result.stdout) == document
    as_csv = bloomwell("get", analysis_id, "--format", "csv")
    assert as_csv.returncode == 0 and as_csv.stdout.startswith("t,")

    assert bloomwell("delete", analysis_id).returncode == 0
    gone = bloomwell("get", analysis_id)
    assert gone.returncode == ExitCode.not_found and "Analysis not found." in gone.stderr
    assert "Traceback" not in gone.stderr

    assert bloomwell("logout").returncode == 0
    assert account.email not in credentials.read_text()
    after = bloomwell("list")
    assert after.returncode == ExitCode.auth and "bloomwell login" in after.stderr


def test_analyze_without_wait_prints_the_id(bloomwell: Run, account: Account) -> None:
    login(bloomwell, account)
    done = bloomwell("analyze", str(VIDEO))
    assert done.returncode == 0, done.stderr
    analysis_id, name, status = done.stdout.strip().split("\t")
    assert uuid.UUID(analysis_id) and name == "fer_test.mp4" and status == "queued"
    not_yet = bloomwell("get", analysis_id, "--format", "json")
    if not_yet.returncode != 0:  # unless a worker already finished it
        assert not_yet.returncode == ExitCode.rejected and "not finished" in not_yet.stderr


def test_bad_credentials_exit_code(bloomwell: Run, account: Account) -> None:
    done = bloomwell("login", "--email", account.email, "--password-stdin", stdin="not the password\n")
    assert done.returncode == ExitCode.auth
    assert "Error:" in done.stderr and "Traceback" not in done.stderr
    assert not (bloomwell.config_dir / "credentials.json").exists()  # type: ignore[attr-defined]


def test_missing_file_and_not_a_video(bloomwell: Run, account: Account, tmp_path: Path) -> None:
    missing = bloomwell("analyze", str(tmp_path / "nope.mp4"))
    assert missing.returncode == ExitCode.usage and "does not exist" in missing.stderr
    login(bloomwell, account)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    refused = bloomwell("analyze", str(text))
    assert refused.returncode == ExitCode.rejected and "not a video format" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_unreachable_api(bloomwell: Run, account: Account) -> None:
    login(bloomwell, account)
    done = bloomwell("--api", "http://127.0.0.1:9", "login", "--email", account.email, "--password-stdin",
                     stdin=account.password + "\n")
    assert done.returncode == ExitCode.unreachable and "Cannot reach" in done.stderr


def test_expired_access_token_is_refreshed(live_api: str, account: Account, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "config")
    with BloomwellClient(live_api, store) as client:
        first = client.login(account.email, account.password)
    store.save(live_api, Tokens(first.access_token, first.refresh_token, expires_at=0.0, email=account.email))
    with BloomwellClient(live_api, store) as client:
        assert client.list().items == []
    refreshed = store.load(live_api)
    assert refreshed is not None and refreshed.refresh_token != first.refresh_token and refreshed.fresh
    # the stored refresh token spent elsewhere (a leak): auth revokes the session, the client says log in again
    response = httpx.post(f"{live_api}/auth/refresh", json={"refresh_token": refreshed.refresh_token}, timeout=30)
    assert response.status_code == 200
    with BloomwellClient(live_api, store) as client, pytest.raises(NotLoggedIn, match="bloomwell login"):
        client.refresh()
    assert store.load(live_api) is None
