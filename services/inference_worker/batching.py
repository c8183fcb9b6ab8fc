"""One forward-pass thread per worker process, shared by every job the process runs.

Jobs submit their faces (model input images) and get a future; the thread takes whatever is waiting — from one
job or from several running at once — and classifies it in one forward pass of up to ``max_batch`` faces. For a
single job this also overlaps classification with decoding and detection of the next frames; with several
concurrent jobs (``WORKER_JOBS`` > 1) their faces share forward passes, which is what keeps a GPU busy.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from services.inference_worker.classifier import EmotionClassifier

log = logging.getLogger(__name__)


@dataclass
class _Request:
    images: np.ndarray
    future: Future[np.ndarray]


class BatchingClassifier:
    """Runs :meth:`EmotionClassifier.predict_images` for all submitters on one background thread."""

    def __init__(self, classifier: EmotionClassifier, max_batch: int = 256, max_wait_s: float = 0.002) -> None:
        self.classifier = classifier
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.passes = 0
        self.faces = 0
        self._queue: queue.Queue[_Request | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="bloomwell-classifier", daemon=True)
        self._thread.start()

    @property
    def name(self) -> str:
        """Model name."""
        return self.classifier.name

    @property
    def version(self) -> str:
        """Model version."""
        return self.classifier.version

    @property
    def temperature(self) -> float:
        """Calibration temperature."""
        return self.classifier.temperature

    def model_image(self, crop: np.ndarray) -> np.ndarray:
        """See :meth:`EmotionClassifier.model_image`."""
        return self.classifier.model_image(crop)

    def submit(self, images: np.ndarray) -> Future[np.ndarray]:
        """Queue model images ``(N, H, W, C)``; the future resolves to their probabilities ``(N, 7)``."""
        future: Future[np.ndarray] = Future()
        if len(images) == 0:
            future.set_result(self.classifier.predict_images(images))
            return future
        if not self._thread.is_alive():
            raise RuntimeError("the classifier thread has stopped")
        self._queue.put(_Request(images, future))
        return future

    def predict_images(self, images: np.ndarray) -> np.ndarray:
        """Blocking form of :meth:`submit`."""
        return self.submit(images).result()

    def close(self) -> None:
        """Stop the thread once the queued work is done."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _take(self) -> tuple[list[_Request], bool]:
        """Block for one request, then gather what else is waiting (briefly) up to ``max_batch`` faces."""
        first = self._queue.get()
        if first is None:
            return [], True
        batch, count = [first], len(first.images)
        while count < self.max_batch:
            try:
                item = self._queue.get(timeout=self.max_wait_s)
            except queue.Empty:
                break
            if item is None:
                self._queue.put(None)  # stop after this pass
                break
            batch.append(item)
            count += len(item.images)
        return batch, False

    def _run(self) -> None:
        while True:
            batch, stop = self._take()
            if stop:
                return
            live = [r for r in batch if r.future.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                probs = self.classifier.predict_images(np.concatenate([r.images for r in live]))
            except Exception as exc:  # handed to every waiting job; the thread keeps serving
                log.exception("classifier forward pass failed")
                for r in live:
                    r.future.set_exception(exc)
                continue
            self.passes += 1
            self.faces += len(probs)
            start = 0
            for r in live:
                r.future.set_result(probs[start : start + len(r.images)])
                start += len(r.images)
