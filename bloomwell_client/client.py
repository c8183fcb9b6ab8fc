"""A typed, synchronous client for the Bloomwell HTTP API (httpx), used by the ``bloomwell`` command.

The response shapes are the gateway's and auth's own pydantic models (one definition of each). Tokens live in a
:class:`TokenStore`: a JSON file with mode 0600 in the user's config directory, one entry per API URL. The access
token is used while it is valid and refreshed (under a file lock, so two commands never spend the same refresh
token, which auth would take as reuse and revoke the session) when it expires or a request answers 401.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, Literal

import httpx

from services.api.analyses.schemas import AnalysisCreated, AnalysisOut, AnalysisPage, PublicConfig
from services.auth.schemas import TokenPair
from services.common.events import ProgressEvent
from services.common.schemas import ResultDocument

DEFAULT_API = "http://127.0.0.1:8000"
REFRESH_MARGIN_S = 30.0
"""Refresh the access token this long before it expires."""

ResultFormat = Literal["json", "csv"]


class BloomwellError(Exception):
    """Anything the client reports to its caller; ``str()`` is a sentence for a person."""


class Unreachable(BloomwellError):
    """The API did not answer (connection refused, DNS, timeout)."""


class NotLoggedIn(BloomwellError):
    """No stored session, or it expired or was revoked: log in again."""


class ApiError(BloomwellError):
    """The API answered with an error status; ``detail`` is its message."""

    def __init__(self, status_code: int, detail: str, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.retry_after = retry_after


class AnalysisFailed(BloomwellError):
    """The analysis ended ``failed``; ``analysis`` holds its final state (``error``, ``error_code``)."""

    def __init__(self, analysis: AnalysisOut) -> None:
        super().__init__(analysis.error or "The analysis failed.")
        self.analysis = analysis


def _detail(response: httpx.Response) -> str:
    """The ``{"detail": ...}`` message of an error response (422: the field errors joined)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or response.reason_phrase
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        parts = [f"{'.'.join(str(p) for p in item.get('loc', [])[1:])}: {item.get('msg', '')}".lstrip(": ")
                 for item in detail if isinstance(item, dict)]
        return "; ".join(parts) or response.reason_phrase
    return str(detail) if detail else response.reason_phrase


def raise_for_status(response: httpx.Response) -> None:
    """Raise :class:`ApiError` (or :class:`NotLoggedIn` for 401) for an error response."""
    if response.is_success:
        return
    detail = _detail(response)
    if response.status_code == 401:
        raise NotLoggedIn(detail)
    raise ApiError(response.status_code, detail, response.headers.get("retry-after"))


@dataclass
class Tokens:
    """One stored session."""

    access_token: str
    refresh_token: str
    expires_at: float
    """Wall-clock seconds when the access token expires."""
    email: str | None = None

    @classmethod
    def from_pair(cls, pair: TokenPair, email: str | None = None) -> Tokens:
        return cls(pair.access_token, pair.refresh_token, time.time() + pair.expires_in, email)

    @property
    def fresh(self) -> bool:
        """True while the access token has more than :data:`REFRESH_MARGIN_S` left."""
        return time.time() < self.expires_at - REFRESH_MARGIN_S


def config_dir() -> Path:
    """``$BLOOMWELL_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/bloomwell``, else ``~/.config/bloomwell``."""
    if explicit := os.environ.get("BLOOMWELL_CONFIG_DIR"):
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "bloomwell"


class TokenStore:
    """Sessions per API URL in ``credentials.json`` (mode 0600, folder 0700), written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "credentials.json"

    @classmethod
    def default(cls) -> TokenStore:
        """The store in :func:`config_dir`."""
        return cls(config_dir())

    def _read_all(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise BloomwellError(f"Cannot read {self.path}: {exc}. Delete it and log in again.") from exc
        return data if isinstance(data, dict) else {}

    def _write_all(self, data: dict[str, dict[str, Any]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)
        os.chmod(tmp, 0o600)
        tmp.replace(self.path)

    def load(self, api: str) -> Tokens | None:
        """The session stored for ``api``, if any."""
        entry = self._read_all().get(api)
        if not entry:
            return None
        try:
            return Tokens(**entry)
        except TypeError:
            return None

    def save(self, api: str, tokens: Tokens) -> None:
        """Store (replace) the session for ``api``."""
        data = self._read_all()
        data[api] = asdict(tokens)
        self._write_all(data)

    def clear(self, api: str) -> None:
        """Forget the session for ``api``."""
        data = self._read_all()
        if data.pop(api, None) is not None:
            self._write_all(data)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock across processes (held while a refresh token is spent)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class _CountingReader:
    """A binary file whose reads report the bytes read so far (for an upload progress bar)."""

    def __init__(self, handle: IO[bytes], on_bytes: Callable[[int], None]) -> None:
        self._handle = handle
        self._on_bytes = on_bytes
        self._done = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._done += len(chunk)
        self._on_bytes(self._done)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()


BUSY_RETRIES = 3
BUSY_MAX_WAIT_S = 10.0
"""A shed ``GET`` is retried only when its ``Retry-After`` is at most this long (else the 503 is reported)."""


def _busy_wait_s(response: httpx.Response) -> float | None:
    """Seconds to wait before sending a shed request again, or None when ``response`` is not such a refusal: its
    ``Retry-After`` (at least 0.1 s) plus up to half of it again at random, so the clients a saturated gateway turned
    away together do not all come back at the same moment."""
    retry_after = response.headers.get("Retry-After", "")
    if response.status_code != 503 or not retry_after.isdigit() or float(retry_after) > BUSY_MAX_WAIT_S:
        return None
    return max(0.1, float(retry_after)) * random.uniform(1.0, 1.5)


class BloomwellClient:
    """The Bloomwell API for one base URL. Use as a context manager, or call :meth:`close`."""

    def __init__(self, api: str = DEFAULT_API, store: TokenStore | None = None, *, timeout_s: float = 60.0,
                 upload_timeout_s: float = 600.0, transport: httpx.BaseTransport | None = None) -> None:
        self.api = api.rstrip("/")
        self.store = store
        self.upload_timeout_s = upload_timeout_s
        self._http = httpx.Client(base_url=self.api, timeout=timeout_s, transport=transport,
                                  headers={"User-Agent": "bloomwell-cli/0.1"})
        self._tokens = store.load(self.api) if store else None

    def __enter__(self) -> BloomwellClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # --- transport -------------------------------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request; a ``GET`` the gateway shed (``503`` + ``Retry-After``, when it is saturated) is sent again
        after that wait, :data:`BUSY_RETRIES` times at most."""
        for attempt in range(BUSY_RETRIES + 1):
            response = self._send_once(method, path, **kwargs)
            wait_s = _busy_wait_s(response) if method == "GET" else None
            if wait_s is None or attempt == BUSY_RETRIES:
                return response
            time.sleep(wait_s)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise Unreachable(f"{self.api} did not answer in time ({type(exc).__name__}).") from exc
        except httpx.TransportError as exc:
            raise Unreachable(f"Cannot reach the Bloomwell API at {self.api}: {exc}.") from exc

    def _save(self, tokens: Tokens) -> None:
        self._tokens = tokens
        if self.store:
            self.store.save(self.api, tokens)

    def refresh(self) -> Tokens:
        """Spend the refresh token for a new pair (unless another process already did) and store it."""
        if self._tokens is None:
            raise NotLoggedIn("Not logged in. Run `bloomwell login` first.")
        with self.store.locked() if self.store else contextlib.nullcontext():
            stored = self.store.load(self.api) if self.store else None
            if stored and stored.refresh_token != self._tokens.refresh_token and stored.fresh:
                self._tokens = stored  # refreshed meanwhile by another command
                return stored
            current = stored or self._tokens
            response = self._send("POST", "/auth/refresh", json={"refresh_token": current.refresh_token})
            if response.status_code == 401:
                if self.store:
                    self.store.clear(self.api)
                self._tokens = None
                raise NotLoggedIn("Your session has expired or was revoked. Run `bloomwell login` again.")
            raise_for_status(response)
            tokens = Tokens.from_pair(TokenPair.model_validate(response.json()), current.email)
            self._save(tokens)
            return tokens

    def _bearer(self) -> dict[str, str]:
        if self._tokens is None:
            raise NotLoggedIn("Not logged in. Run `bloomwell login` first.")
        if not self._tokens.fresh:
            self.refresh()
        assert self._tokens is not None
        return {"Authorization": f"Bearer {self._tokens.access_token}"}

    def _authed(self, method: str, path: str, build: Callable[[], dict[str, Any]] | None = None,
                **kwargs: Any) -> httpx.Response:
        """An authenticated request; on 401 the token is refreshed once and the request repeated (``build``
        makes fresh keyword arguments per attempt, e.g. a reopened file)."""
        base_headers: dict[str, str] = kwargs.pop("headers", {})
        for attempt in range(2):
            extra = build() if build else {}
            headers = {**base_headers, **extra.pop("headers", {}), **self._bearer()}
            response = self._send(method, path, headers=headers, **kwargs, **extra)
            if response.status_code != 401 or attempt == 1:
                break
            self.refresh()
        raise_for_status(response)
        return response

    # --- account ---------------------------------------------------------------------------------------------

    def signup(self, email: str, password: str, first_name: str, last_name: str) -> None:
        """Create an account (then :meth:`login`)."""
        body = {"email": email, "password": password, "first_name": first_name, "last_name": last_name}
        raise_for_status(self._send("POST", "/auth/signup", json=body))

    def login(self, email: str, password: str) -> Tokens:
        """Log in and store the session."""
        response = self._send("POST", "/auth/login", json={"email": email, "password": password})
        if response.status_code == 401:
            raise NotLoggedIn(_detail(response))
        raise_for_status(response)
        tokens = Tokens.from_pair(TokenPair.model_validate(response.json()), email)
        self._save(tokens)
        return tokens

    @property
    def logged_in_as(self) -> str | None:
        """The e-mail of the stored session (None when not logged in)."""
        return self._tokens.email if self._tokens else None

    def logout(self) -> bool:
        """End the session on the server and forget it here; False when there was none."""
        if self._tokens is None:
            return False
        try:
            response = self._send("POST", "/auth/logout", json={"refresh_token": self._tokens.refresh_token})
            if response.status_code not in (204, 401):
                raise_for_status(response)
        finally:
            if self.store:
                self.store.clear(self.api)
            self._tokens = None
        return True

    # --- analyses --------------------------------------------------------------------------------------------

    def config(self) -> PublicConfig:
        """Upload limits and accepted formats."""
        response = self._send("GET", "/v1/config")
        raise_for_status(response)
        return PublicConfig.model_validate(response.json())

    def upload(self, video: str | os.PathLike[str], *, sample_fps: float | None = None, keep_video: bool = False,
               idempotency_key: str | None = None, on_bytes: Callable[[int], None] | None = None,
               attempts: int = 3) -> AnalysisCreated:
        """Upload ``video`` and queue its analysis.

        Sent with an ``Idempotency-Key`` (a new UUID unless given), so the retries after a dropped connection
        or a 5xx answer (up to ``attempts`` sends) never create a second analysis."""
        path = Path(video)
        key = idempotency_key or str(uuid.uuid4())
        data: dict[str, str] = {"keep_video": "true" if keep_video else "false"}
        if sample_fps is not None:
            data["sample_fps"] = str(sample_fps)
        handles: list[IO[bytes]] = []

        def build() -> dict[str, Any]:
            handle = path.open("rb")
            handles.append(handle)
            # a duck-typed file: httpx uses only read, seek, tell and fileno
            body: IO[bytes] = _CountingReader(handle, on_bytes) if on_bytes else handle  # type: ignore[assignment]
            return {"files": {"video": (path.name, body)}, "headers": {"Idempotency-Key": key}}

        try:
            for attempt in range(1, attempts + 1):
                try:
                    response = self._authed("POST", "/v1/analyses", build, data=data, timeout=self.upload_timeout_s)
                    return AnalysisCreated.model_validate(response.json())
                except (Unreachable, ApiError) as exc:
                    retryable = isinstance(exc, Unreachable) or exc.status_code in (502, 503, 504)
                    if not retryable or attempt == attempts:
                        raise
                    time.sleep(min(8.0, 2.0 ** (attempt - 1)))
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            for handle in handles:
                handle.close()

    def list(self, limit: int = 20, cursor: str | None = None) -> AnalysisPage:
        """One page of the caller's analyses, newest first."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return AnalysisPage.model_validate(self._authed("GET", "/v1/analyses", params=params).json())

    def iter_all(self, page_size: int = 100) -> Iterator[AnalysisOut]:
        """Every analysis of the caller, newest first, page after page."""
        cursor: str | None = None
        while True:
            page = self.list(page_size, cursor)
            yield from page.items
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def get(self, analysis_id: uuid.UUID | str) -> AnalysisOut:
        """The state of one analysis."""
        return AnalysisOut.model_validate(self._authed("GET", f"/v1/analyses/{analysis_id}").json())

    def result_text(self, analysis_id: uuid.UUID | str, fmt: ResultFormat = "json") -> str:
        """The result as the API sends it (JSON document or CSV); 409 (ApiError) until it succeeded."""
        return self._authed("GET", f"/v1/analyses/{analysis_id}/result", params={"format": fmt}).text

    def result_json(self, analysis_id: uuid.UUID | str) -> ResultDocument:
        """The parsed result document."""
        return ResultDocument.model_validate_json(self.result_text(analysis_id, "json"))

    def delete(self, analysis_id: uuid.UUID | str) -> None:
        """Delete an analysis with its video, crops and result."""
        self._authed("DELETE", f"/v1/analyses/{analysis_id}")

    def events(self, analysis_id: uuid.UUID | str, read_timeout_s: float = 60.0) -> Iterator[ProgressEvent]:
        """Follow the analysis's Server-Sent Events until a terminal one (or the stream ends). A stream the gateway
        shed (``503`` + ``Retry-After``) is opened again after that wait, :data:`BUSY_RETRIES` times at most."""
        timeout = httpx.Timeout(10.0, read=read_timeout_s)
        refreshed, busy = False, 0
        while True:
            wait_s: float | None = None
            try:
                with self._http.stream("GET", f"/v1/analyses/{analysis_id}/events", headers=self._bearer(),
                                       timeout=timeout) as response:
                    if response.status_code == 401 and not refreshed:
                        refreshed = True
                        self.refresh()
                        continue
                    if not response.is_success:
                        response.read()
                        wait_s = _busy_wait_s(response) if busy < BUSY_RETRIES else None
                        if wait_s is None:
                            raise_for_status(response)
                    else:
                        yield from _parse_sse(response.iter_lines())
                        return
            except httpx.TimeoutException as exc:
                raise Unreachable(f"The event stream of {analysis_id} went silent ({type(exc).__name__}).") from exc
            except httpx.TransportError as exc:
                raise Unreachable(f"The event stream of {analysis_id} broke: {exc}.") from exc
            busy += 1
            time.sleep(wait_s or 0.0)

    def wait(self, analysis_id: uuid.UUID | str, on_event: Callable[[ProgressEvent], None] | None = None,
             timeout_s: float = 1800.0) -> AnalysisOut:
        """Follow the events until the job ends and return its final state; raises :class:`AnalysisFailed`.

        A stream that breaks (gateway restart, proxy timeout) or that a saturated gateway keeps refusing (503) is
        reopened; the state is read from ``GET /v1/analyses/{id}`` at the end, so nothing depends on having seen
        every event."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                for event in self.events(analysis_id):
                    if on_event:
                        on_event(event)
                    if event.is_terminal:
                        break
            except Unreachable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
            except ApiError as exc:  # the gateway kept shedding the stream: read the state, then listen again
                if exc.status_code != 503 or time.monotonic() > deadline:
                    raise
                time.sleep(1.0)
            state = self.get(analysis_id)
            if state.status.is_terminal:
                if state.status.value == "failed":
                    raise AnalysisFailed(state)
                return state
            if time.monotonic() > deadline:
                raise BloomwellError(f"Analysis {analysis_id} did not finish within {timeout_s:.0f} s.")


def _parse_sse(lines: Iterator[str]) -> Iterator[ProgressEvent]:
    """ProgressEvents from ``event: progress`` / ``data:`` blocks of a text/event-stream."""
    event, data = "message", list[str]()
    for line in lines:
        if not line:
            if data and event == "progress":
                yield ProgressEvent.model_validate_json("\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
