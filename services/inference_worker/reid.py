"""Re-identification: which face tracks are one person, across shot cuts and track gaps.

The tracker (``tracking``) starts new tracks at every shot change and whenever a face is lost for longer than
``track_lost_s``, so one person can hold several tracks. Here each track gets a descriptor from the face embedder
(:mod:`bloomwell_ml.face_embedding`): the mean of the unit descriptors of its ``faces_per_track`` clearest readable
faces (sharpness × size, as the person's picture is chosen; ``REID_FACES_PER_TRACK``, 0 turns re-identification off),
so the cost is at most a dozen faces per track, not one per frame (the mean of 12 is steadier than of 3: with
model 3.0.0's quality gate picking other faces, 3 per track put the stage performer across the cut at 0.944, under a
different-person pair at 0.949; 12 per track measure 0.963 against at most 0.948).
Tracks are then merged into persons (:func:`merge_tracks`):

* two tracks seen in the same frame are never one person;
* groups are merged greedily, most similar first, only where *every* pair of descriptors across the two groups has
  a cosine similarity of at least ``min_similarity`` (complete linkage: one look-alike cannot chain two people);
* a track without a readable face has no descriptor and stays a person of its own.

``min_similarity`` (setting ``REID_MIN_SIMILARITY``) is measured by ``scripts/measure_reid.py`` on same-person and
different-person track pairs from the shared videos and photos (``models/face_embedder/MODEL_CARD.md``).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from bloomwell_ml.face_embedding import FaceEmbedder, unit

MIN_SIMILARITY = 0.953
"""Default merge threshold (cosine similarity of track descriptors), from ``scripts/measure_reid.py``."""
FACES_PER_TRACK = 12


class FaceSampler:
    """Keeps, per track, the embedder inputs of its ``per_track`` clearest readable faces (cropped when kept)."""

    def __init__(self, per_track: int) -> None:
        self.per_track = per_track
        self._kept: dict[int, list[tuple[float, int, np.ndarray]]] = {}  # min-heap on clarity
        self._order = 0
        self.crop_s = 0.0
        """Seconds spent cropping the kept faces (part of the re-identification cost)."""

    def offer(self, track: int, clarity: float, crop: Callable[[], np.ndarray]) -> None:
        """Keep this face if it is among the track's clearest so far (``crop`` is called only then)."""
        if self.per_track <= 0:
            return
        heap = self._kept.setdefault(track, [])
        if len(heap) >= self.per_track and clarity <= heap[0][0]:
            return
        self._order += 1
        t0 = time.perf_counter()
        item = (clarity, self._order, crop())
        self.crop_s += time.perf_counter() - t0
        if len(heap) < self.per_track:
            heapq.heappush(heap, item)
        else:
            heapq.heapreplace(heap, item)

    def tracks_sampled(self) -> int:
        """How many tracks have at least one kept face (fewer than two: nothing to merge, no need to embed)."""
        return sum(1 for heap in self._kept.values() if heap)

    def face_descriptors(self, embedder: FaceEmbedder) -> dict[int, np.ndarray]:
        """The unit descriptors ``(n, 128)`` of each sampled track's kept faces, clearest first (one embedder call)."""
        tracks = [t for t, heap in self._kept.items() if heap]
        if not tracks:
            return {}
        images = [image for t in tracks for _, _, image in sorted(self._kept[t], key=lambda kept: (-kept[0], kept[1]))]
        vectors = unit(embedder.embed(np.stack(images)))
        out: dict[int, np.ndarray] = {}
        at = 0
        for t in tracks:
            n = len(self._kept[t])
            out[t] = vectors[at:at + n]
            at += n
        return out


def track_descriptor(face_descriptors: np.ndarray) -> np.ndarray:
    """A track's descriptor: the unit mean of its faces' unit descriptors."""
    return unit(np.asarray(face_descriptors, dtype=np.float32).mean(axis=0))


@dataclass
class _Group:
    key: int  # the first-appearing track of the group
    first: int
    frames: set[int] = field(default_factory=set)
    vectors: list[np.ndarray] = field(default_factory=list)
    tracks: list[int] = field(default_factory=list)


def _min_cross_similarity(a: _Group, b: _Group) -> float:
    return float(np.min(np.stack(a.vectors) @ np.stack(b.vectors).T))


def merge_tracks(frames_of: Mapping[int, Iterable[int]], descriptors: Mapping[int, np.ndarray],
                 min_similarity: float) -> dict[int, int]:
    """Person of every track: ``{track: person key}``, the key being the group's first-appearing track.

    ``frames_of``: the sampled-frame indices each track was seen in; ``descriptors``: unit descriptors of the tracks
    that have one. See the module docstring for the rules."""
    groups = {t: _Group(t, min(fs, default=0), set(fs)) for t, fs in frames_of.items()}
    for t, g in groups.items():
        if t in descriptors:
            g.vectors.append(np.asarray(descriptors[t], dtype=np.float32))
        g.tracks.append(t)
    described = sorted((t for t in groups if groups[t].vectors), key=lambda t: (groups[t].first, t))
    pairs = []
    for i, a in enumerate(described):
        for b in described[i + 1:]:
            similarity = float(groups[a].vectors[0] @ groups[b].vectors[0])
            if similarity >= min_similarity:
                pairs.append((-similarity, a, b))
    pairs.sort()
    owner = {t: t for t in groups}
    for _, a, b in pairs:
        ga, gb = groups[owner[a]], groups[owner[b]]
        if ga is gb or ga.frames & gb.frames or _min_cross_similarity(ga, gb) < min_similarity:
            continue
        keep, gone = (ga, gb) if (ga.first, ga.key) <= (gb.first, gb.key) else (gb, ga)
        keep.frames |= gone.frames
        keep.vectors += gone.vectors
        keep.tracks += gone.tracks
        for t in gone.tracks:
            owner[t] = keep.key
        del groups[gone.key]
    return dict(owner)


def track_frames(ids_per_frame: Sequence[Sequence[int | None]]) -> dict[int, set[int]]:
    """``{track: frame indices}`` from the track ids of each sampled frame."""
    out: dict[int, set[int]] = {}
    for i, ids in enumerate(ids_per_frame):
        for t in ids:
            if t is not None:
                out.setdefault(t, set()).add(i)
    return out


@lru_cache(maxsize=1)
def shared_embedder() -> FaceEmbedder:
    """The process's face embedder (loaded once; ONNX Runtime sessions may be used from several threads)."""
    return FaceEmbedder()
