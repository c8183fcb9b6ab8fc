"""The upload walk: which files and functions of the project one upload runs through, from the gateway's route to the
stored result and the terminal event the browser receives (prints figures; asserts nothing).

    .venv/bin/python bench/upload_walk.py              # counts, and the order of the worker's stage calls
    .venv/bin/python bench/upload_walk.py --list       # also every function, file by file

How it counts: a profiler hook (``sys.setprofile`` / ``threading.setprofile``, so the worker's event-loop and
forward-pass threads are seen too) records every Python function *called* whose code lives in the project
(``services/``, ``bloomwell_ml/``; libraries, tests and this script are not counted) while (1) the gateway, in process,
answers ``POST /v1/analyses`` for a real face video (``../shared/data/videos/fer_test.mp4``, ``--video``) and (2)
the worker's task body (``services.inference_worker.tasks.process``) runs that analysis to its stored result and
terminal event, with the worker's default settings and a tiny random-weight model (the walk is about structure, not
accuracy). Sign-up and log-in, model loading and database set-up happen before recording starts.

Calls made while the analysis engine runs (``pipeline.analyze_video``: decode → detect → track → classify → aggregate)
are counted apart, except its calls back into the job's files. For those files (``tasks.py``, ``persist.py`` and, where
they exist, ``progress.py``, ``outbox.py``) it lists every call that came in from another file, with its caller: the
back-and-forth between them. It needs PostgreSQL on 127.0.0.1:5432 (else an embedded one is started)
and starts a private Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
import tempfile
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.devinfra import start_redis, throwaway_database  # noqa: E402
from services.common.settings import REPO_ROOT  # noqa: E402

COUNTED = (REPO_ROOT / "services", REPO_ROOT / "bloomwell_ml")
VIDEOS = REPO_ROOT.parent / "shared" / "data" / "videos"
SPINE = ("services/inference_worker/tasks.py", "services/inference_worker/persist.py",
         "services/inference_worker/progress.py", "services/inference_worker/outbox.py")
"""The files one job's stages are called from and written in (those that exist in the checkout measured)."""


RESUMABLE = inspect.CO_COROUTINE | inspect.CO_GENERATOR | inspect.CO_ASYNC_GENERATOR
ENGINE = ("services/inference_worker/pipeline.py", "analyze_video")
"""The analysis engine (decode → detect → track → classify → aggregate): what it runs is counted apart."""
CALLBACKS = (*SPINE, "services/common/events.py", "services/inference_worker/metrics.py")
"""Files whose functions the engine calls back into (progress reports): these stay in the walk."""


@dataclass(frozen=True)
class Call:
    """One call of a project function: its file and name, and the project file that called it (for a coroutine run
    on the worker's database loop: the file that handed it over with ``Runtime.run``)."""

    path: str
    qualname: str
    caller: str


@dataclass
class Recorder:
    """Calls into project code, in order, while :attr:`on` is set; calls made while the analysis engine runs (in any
    thread but the database loop's) go to :attr:`engine` instead, except the engine's calls back into the job."""

    on: bool = False
    calls: list[Call] = field(default_factory=list)
    engine: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    engine_depth: int = 0
    _roots: tuple[str, ...] = tuple(str(root) + os.sep for root in COUNTED)
    _started: set[FrameType] = field(default_factory=set)
    """Coroutine and generator frames already entered: resuming one is not a new call."""
    _handover: str = "(outside)"
    """The file of the last ``Runtime.run`` call: the caller of what then starts on the database loop."""

    def _project_path(self, frame: FrameType) -> str | None:
        name = frame.f_code.co_filename
        return Path(name).relative_to(REPO_ROOT).as_posix() if name.startswith(self._roots) else None

    def _caller(self, frame: FrameType) -> str:
        back = frame.f_back
        while back is not None:
            path = self._project_path(back)
            if path is not None and back.f_code.co_qualname != "_start_loop.<locals>.serve":
                return path
            back = back.f_back
        return self._handover if threading.current_thread().name == "bloomwell-db-loop" else "(outside)"

    def hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("call", "return") or not self.on:
            return
        code = frame.f_code
        path = self._project_path(frame)
        if path is None or code.co_name.startswith("<"):
            return
        is_engine = (path, code.co_qualname) == ENGINE
        with self.lock:
            if event == "return":
                self.engine_depth -= is_engine
                return
            if code.co_flags & RESUMABLE:
                if frame in self._started:
                    return
                self._started.add(frame)
            inside = self.engine_depth > 0 and threading.current_thread().name != "bloomwell-db-loop"
            call = Call(path, code.co_qualname, self._caller(frame))
            if call.qualname == "Runtime.run":
                self._handover = call.caller
            (self.engine if inside and path not in CALLBACKS else self.calls).append(call)
            self.engine_depth += is_engine

    def record(self, work: Callable[[], Any]) -> list[Call]:
        """The calls ``work()`` makes (in every thread)."""
        self.calls, self.engine = [], []
        self.on = True
        try:
            work()
        finally:
            self.on = False
        return list(self.calls)


def short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def entries(calls: list[Call]) -> dict[str, Counter[str]]:
    """For each job file: the calls that came into it from another file, as ``caller: function`` → count."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for call in calls:
        if call.path in SPINE and call.caller != call.path:
            found[call.path][f"{short(call.caller)}: {call.qualname}"] += 1
    return found


def report(name: str, calls: list[Call], listing: bool) -> None:
    functions: dict[str, set[str]] = defaultdict(set)
    for call in calls:
        functions[call.path].add(call.qualname)
    services = {p for p in functions if p.startswith("services/")}
    print(f"{name}: {len(functions)} files ({len(services)} under services/), "
          f"{sum(len(f) for f in functions.values())} functions "
          f"({sum(len(functions[p]) for p in services)} under services/), {len(calls)} calls")
    if listing:
        for path in sorted(functions):
            print(f"    {path}: {', '.join(sorted(functions[path]))}")


async def _upload(api_settings: Any, auth_settings: Any, recorder: Recorder,
                  video: Path) -> tuple[uuid.UUID, list[Any]]:
    import httpx

    from services.api.main import create_app as create_api
    from services.auth.main import create_app as create_auth

    auth_app = create_auth(auth_settings)
    api_app = create_api(api_settings, auth_transport=httpx.ASGITransport(auth_app))
    async with (
        auth_app.router.lifespan_context(auth_app),
        api_app.router.lifespan_context(api_app),
        httpx.AsyncClient(transport=httpx.ASGITransport(api_app), base_url="http://walk", timeout=120) as client,
    ):
        email, password = f"walk-{uuid.uuid4().hex[:8]}@bloomwell.dev", "upload-walk-password"
        body = {"email": email, "password": password, "first_name": "W", "last_name": "K"}
        (await client.post("/auth/signup", json=body)).raise_for_status()
        login = await client.post("/auth/login", json={"email": email, "password": password})
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        await client.get("/v1/analyses", headers=headers)  # token verified and cached, pools warm
        recorder.calls, recorder.on = [], True
        with video.open("rb") as handle:
            created = await client.post("/v1/analyses", headers=headers, files={"video": (video.name, handle)})
        recorder.on = False
        created.raise_for_status()
        return uuid.UUID(created.json()["id"]), list(recorder.calls)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--list", action="store_true", help="print every function, file by file")
    parser.add_argument("--video", default="fer_test.mp4", help="a video of ../shared/data/videos")
    parser.add_argument("--progress-db-interval", type=float, default=None,
                        help="PROGRESS_DB_INTERVAL_S of the worker (default: its default, 2 s)")
    args = parser.parse_args(argv)
    video = VIDEOS / args.video
    if not video.is_file():
        print(f"{video} is missing (the shared test videos)", file=sys.stderr)
        return 2

    from bloomwell_ml.arch import create_model
    from bloomwell_ml.io import save_model
    from bloomwell_ml.spec import ModelSpec
    from services.api.config import ApiSettings
    from services.auth.config import AuthSettings
    from services.common.migrations import upgrade_to_head
    from services.inference_worker.config import WorkerSettings
    from services.inference_worker.runtime import build_runtime
    from services.inference_worker.tasks import process

    recorder = Recorder()
    redis = start_redis()
    try:
        with throwaway_database("bloomwell_walk") as database_url, tempfile.TemporaryDirectory() as tmp:
            upgrade_to_head(database_url)
            sys.setprofile(recorder.hook)
            threading.setprofile(recorder.hook)  # before the gateway's and the worker's threads start
            root = Path(tmp)
            spec = ModelSpec(arch="convnext_face", arch_kwargs={"dims": [16, 32, 48, 64], "depths": [1, 1, 1, 1],
                                                                "head_hidden": 32},
                             image_size=48, grayscale=True, name="walk-tiny", version="0")
            model = save_model(root / "tiny.pt", create_model(spec.arch, num_classes=7, **spec.arch_kwargs), spec)
            common: dict[str, Any] = {"environment": "test", "database_url": database_url, "redis_url": redis.url,
                                      "bloomwell_data_dir": root, "storage_dir": root / "storage"}
            limits: dict[str, Any] = {"login_rate_limit_per_address": "1000/minute",
                                      "signup_rate_limit_per_address": "1000/minute"}
            aid, gateway = asyncio.run(_upload(ApiSettings(auth_url="http://auth.internal", **common),
                                               AuthSettings(**common, **limits), recorder, video))
            if args.progress_db_interval is not None:
                common["progress_db_interval_s"] = args.progress_db_interval
            rt = build_runtime(WorkerSettings(model_path=model, webhook_secret="walk", **common))
            try:
                rt.warm_up()
                outcome: list[str] = []
                worker = recorder.record(lambda: outcome.append(process(rt, aid)))
                engine = recorder.engine
            finally:
                rt.close()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
        redis.stop()

    print(f"one upload of {video.name}, job outcome: {outcome[0]}, progress written to the row every "
          f"{rt.settings.progress_db_interval_s:g} s at most")
    report("gateway (POST /v1/analyses)", gateway, args.list)
    report("worker (tasks.process)", worker, args.list)
    report("analysis engine (inside pipeline.analyze_video, counted apart)", engine, args.list)
    report("the walk: route to stored result and event, engine apart", gateway + worker, args.list)
    report("everything: walk and engine", gateway + worker + engine, False)
    print("the job's files, entered from another file (caller: function × calls):")
    for path, counts in sorted(entries(worker).items()):
        print(f"    {short(path)} ({sum(counts.values())}): "
              + ", ".join(f"{key} × {n}" for key, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
