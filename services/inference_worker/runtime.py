"""Per-process state of a worker: an event-loop thread, DB engine, Redis client, one model, one forward-pass
thread, and a face detector per job thread.

Celery tasks are synchronous while the shared DB layer is async: each worker process owns one event loop running
in a thread of its own (made when the process starts, after any fork), and jobs hand their coroutines to it, so
the engine and its pool live on one loop for the process's life whatever thread a job runs in. The model is
loaded once per process and used only by the forward-pass thread (``batching.BatchingClassifier``); detectors
keep per-call state, so each job thread gets its own.
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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bloomwell_ml.faces import FaceDetector, create_detector
from services.common.db import create_engine, create_sessionmaker
from services.common.storage import Storage
from services.inference_worker.batching import BatchingClassifier
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.config import WorkerSettings, get_settings
from services.inference_worker.reid import shared_embedder

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
    _batching: BatchingClassifier | None = None
    _detectors: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to completion on this process's event loop (from any thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    @property
    def classifier(self) -> EmotionClassifier:
        """The emotion model, loaded on first use."""
        with self._lock:
            if self._classifier is None:
                s = self.settings
                self._classifier = EmotionClassifier.load(
                    s.resolved_model_path,
                    device=s.inference_device,
                    precision=s.inference_precision,
                    max_batch=s.classifier_max_batch,
                    tta=s.inference_tta,
                    backend=s.inference_backend,
                    threads=s.torch_num_threads,
                )
            return self._classifier

    @property
    def batching_classifier(self) -> BatchingClassifier:
        """The process's forward-pass thread over :attr:`classifier`, started on first use."""
        classifier = self.classifier
        with self._lock:
            if self._batching is None:
                self._batching = BatchingClassifier(classifier, max_batch=self.settings.classifier_max_batch)
            return self._batching

    @property
    def detector(self) -> FaceDetector:
        """This thread's face detector (``FACE_DETECTOR``), made on first use."""
        detector: FaceDetector | None = getattr(self._detectors, "detector", None)
        if detector is None:
            s = self.settings
            device = "cuda" if self.classifier.device.startswith("cuda") else "cpu"
            detector = create_detector(
                s.face_detector,
                max_faces=s.max_faces_per_frame,
                min_face_frac=s.min_face_frac,
                min_face_px=s.min_face_px,
                max_side=s.detector_max_side,
                score_threshold=s.detector_score_threshold,
                device=device,
                num_threads=s.detector_num_threads,
            )
            self._detectors.detector = detector
        return detector

    def warm_up(self) -> None:
        """Load the model, a detector and the face embedder now rather than on the first job."""
        _ = self.batching_classifier, self.detector, shared_embedder()

    def close(self) -> None:
        """Stop the forward-pass thread, dispose of the engine, stop the loop, close Redis."""
        try:
            if self._batching is not None:
                self._batching.close()
            self.run(self.engine.dispose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
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


def _start_loop() -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(ready.set)
        loop.run_forever()
        loop.close()

    threading.Thread(target=serve, name="bloomwell-db-loop", daemon=True).start()
    ready.wait()
    return loop


def build_runtime(settings: WorkerSettings) -> Runtime:
    """A new runtime for ``settings`` (its own event-loop thread and engine); the model loads on first use."""
    loop = _start_loop()
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
