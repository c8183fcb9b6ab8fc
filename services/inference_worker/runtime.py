"""Per-process state of a worker: one event loop, DB engine, Redis client, face detector and model.

Celery tasks are synchronous while the shared DB layer is async; each worker process owns one event
loop (made when the process starts, after any fork) and runs the async session code on it, so the
engine and its connection pool live on one loop for the process's life.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis
import torch
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bloomwell_ml.faces import FaceDetector, create_detector
from services.common.db import create_engine, create_sessionmaker
from services.common.storage import Storage
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.config import WorkerSettings, get_settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Runtime:
    """Everything a task needs that is expensive to make; one per worker process."""

    settings: WorkerSettings
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: Storage
    redis: redis.Redis
    pid: int = field(default_factory=os.getpid)
    _classifier: EmotionClassifier | None = None
    _detector: FaceDetector | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to completion on this process's event loop."""
        return self.loop.run_until_complete(coro)

    @property
    def classifier(self) -> EmotionClassifier:
        """The emotion model, loaded on first use."""
        if self._classifier is None:
            s = self.settings
            self._classifier = EmotionClassifier.load(
                s.resolved_model_path,
                device=s.inference_device,
                precision=s.inference_precision,
                max_batch=s.classifier_max_batch,
                tta=s.inference_tta,
            )
        return self._classifier

    @property
    def detector(self) -> FaceDetector:
        """The face detector chosen by ``FACE_DETECTOR``, made on first use."""
        if self._detector is None:
            device = "cuda" if self.classifier.device.type == "cuda" else "cpu"
            self._detector = create_detector(
                self.settings.face_detector,
                max_faces=self.settings.max_faces_per_frame,
                min_face_frac=self.settings.min_face_frac,
                device=device,
                num_threads=self.settings.detector_num_threads,
            )
        return self._detector

    def warm_up(self) -> None:
        """Load the model and detector now rather than on the first job."""
        _ = self.classifier, self.detector

    def close(self) -> None:
        """Dispose of the engine and close the loop and Redis client."""
        try:
            self.run(self.engine.dispose())
        finally:
            self.loop.close()
            self.redis.close()


_runtime: Runtime | None = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    """This process's runtime, made on first call (and anew in a forked child)."""
    global _runtime
    with _lock:
        if _runtime is None or _runtime.pid != os.getpid():
            _runtime = build_runtime(get_settings())
        return _runtime


def build_runtime(settings: WorkerSettings) -> Runtime:
    """A new runtime for ``settings`` (its own event loop and engine); the model loads on first use."""
    if settings.torch_num_threads:
        torch.set_num_threads(settings.torch_num_threads)
    loop = asyncio.new_event_loop()
    engine = create_engine(settings.database_url)
    storage = Storage(settings.storage_root)
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=5)
    log.info("worker runtime ready (pid %s, db %s)", os.getpid(), engine.url.render_as_string(hide_password=True))
    return Runtime(settings, loop, engine, create_sessionmaker(engine), storage, client)


def shutdown_runtime() -> None:
    """Close this process's runtime, if any."""
    global _runtime
    with _lock:
        if _runtime is not None and _runtime.pid == os.getpid():
            try:
                _runtime.close()
            except Exception:  # shutting down: nothing left to do with the error
                log.exception("error while closing the worker runtime")
        _runtime = None
