"""Expression-episode videos: labelled test videos built from still images the way a person poses, run through the
worker's own pipeline (detector → tracker → crop → quality gate → classifier → smoothing → indicators) and scored
per episode.

A video is neutral frames, then an expression held 1.5–3 s, back to neutral, several times; between frames the face
moves a little (jitter of a few pixels, ±4 % scale, ±2° roll) as a seated person's does. Faces are FER2013 test and
CK+ stills (never training images), upscaled 4× as in the serving-path set:

* ``fer2013`` videos: one FER2013 test neutral face for the neutral stretches, a FER2013 test face of the target
  class per episode;
* ``ckplus`` videos: the same neutral stretches, a CK+ subject's posed peak frames (its sequence's last three
  frames, alternated) per episode — the posed anger and disgust the product misses.

The neutral and expressive faces are different people (no set here has both of one person), so each episode starts
and ends with a change of face at the same place in the frame; the tracker keeps one person through it (checked:
``people_count``).

Scoring, per episode: *seen* when the smoothed timeline shows the episode's expression for at least
``MIN_SEEN_S`` within it; *frame hit rate* the share of its frames whose raw (unsmoothed) top expression is the
target, so a model that sees an episode in most frames but loses it to smoothing shows as ``lost_by_smoothing``.
Neutral stretches (minus ``MARGIN_S`` at each end) are checked for *spurious* episodes: any run of a non-neutral
smoothed expression lasting ``MIN_SEEN_S`` or more. Videos are generated at evaluation time into a temporary folder
(seeded: the same videos every run) and never stored in the repository.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bloomwell_ml.labels import EMOTIONS, NEGATIVE_EMOTIONS
from services.inference_worker.smoothing import SmoothingOptions, smooth
from training.data.readers import Sample, read_folder, read_gray

VIDEO_FPS = 10.0
FRAME_SIDE = 384  # a 48 px face upscaled 4× (192 px) in a frame twice its size, as the serving-path set
FACE_UPSCALE = 4
MIN_SEEN_S = 0.6  # three sampled frames at the worker's 5 frames/s
MARGIN_S = 0.6
EPISODE_CLASSES = ("angry", "disgust", "sad", "fear", "happy", "surprise")


@dataclass(frozen=True)
class Episode:
    """One expression held from ``start_s`` to ``end_s``."""

    label: str
    start_s: float
    end_s: float
    source: str  # the still(s) shown, relative to the data root


@dataclass(frozen=True)
class EpisodeVideo:
    """A generated video's plan: its episodes and the neutral face between them."""

    name: str
    family: str
    duration_s: float
    neutral_source: str
    episodes: tuple[Episode, ...]

    def label_at(self, t: float) -> str:
        """The posed expression at ``t`` seconds (neutral outside the episodes)."""
        for ep in self.episodes:
            if ep.start_s <= t < ep.end_s:
                return ep.label
        return "neutral"


@dataclass(frozen=True)
class EpisodeOptions:
    """How many videos, with which seed."""

    videos_per_family: int = 4
    episodes_per_video: int = 4
    seed: int = 0
    families: tuple[str, ...] = ("fer2013", "ckplus")


def _rel(path: Path, root: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()


def _detectable(path: Path, detector: Any) -> bool:
    """Whether the worker's detector finds the still's face in a video frame (a classifier-independent filter:
    FER2013 holds faces YuNet does not find, and a video of an undetected face tests nothing)."""
    return bool(detector.detect([_frame(read_gray(path), np.random.default_rng(0))])[0])


def plan_videos(data_root: Path, opts: EpisodeOptions = EpisodeOptions()
                ) -> list[tuple[EpisodeVideo, dict[str, list[Path]]]]:
    """The seeded plan of every video and, per source string, the still image paths it cycles through (stills
    drawn at random among those the worker's detector finds)."""
    from bloomwell_ml.faces import create_detector

    detector = create_detector("yunet", max_faces=1)
    rng = np.random.default_rng(opts.seed)

    def draw(pool: Sequence[Sample]) -> Path:
        for _ in range(100):
            path = pool[int(rng.integers(len(pool)))].path
            if _detectable(path, detector):
                return path
        raise RuntimeError("no detectable face found in 100 draws")

    test = read_folder(data_root / "fer2013", "test")
    ck = read_folder(data_root / "ckplus48", "all")
    by_class: dict[str, list[Sample]] = {c: [s for s in test if EMOTIONS[s.label] == c] for c in EMOTIONS}
    ck_sequences: dict[str, dict[str, list[Path]]] = {}
    for s in ck:
        seq = "_".join(s.path.stem.split("_")[:2])
        ck_sequences.setdefault(EMOTIONS[s.label], {}).setdefault(seq, []).append(s.path)
    plans = []
    for family in opts.families:
        for v in range(opts.videos_per_family):
            neutral = draw(by_class["neutral"])
            stills: dict[str, list[Path]] = {_rel(neutral, data_root): [neutral]}
            classes = [EPISODE_CLASSES[(v + k) % len(EPISODE_CLASSES)] for k in range(opts.episodes_per_video)]
            if family == "ckplus":
                classes = [c if c in ck_sequences else "angry" for c in classes]
            t = float(rng.uniform(2.0, 3.0))
            episodes = []
            for label in classes:
                if family == "fer2013":
                    paths = [draw(by_class[label])]
                else:
                    seqs = sorted(ck_sequences[label])
                    paths = sorted(ck_sequences[label][seqs[int(rng.integers(len(seqs)))]])
                source = "+".join(_rel(p, data_root) for p in paths)
                stills[source] = paths
                hold = float(rng.uniform(1.5, 3.0))
                episodes.append(Episode(label, round(t, 2), round(t + hold, 2), source))
                t += hold + float(rng.uniform(2.5, 4.0))
            plans.append((EpisodeVideo(f"{family}-{v}", family, round(t, 2), _rel(neutral, data_root),
                                       tuple(episodes)), stills))
    return plans


def _frame(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One video frame: the upscaled face centred in a FRAME_SIDE square with a little jitter, scale and roll."""
    side = face.shape[0] * FACE_UPSCALE
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    scale = float(rng.uniform(0.96, 1.04))
    angle = float(rng.uniform(-2.0, 2.0))
    dx, dy = (float(v) for v in rng.uniform(-5, 5, size=2))
    m = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
    m[0, 2] += (FRAME_SIDE - side) / 2 + dx
    m[1, 2] += (FRAME_SIDE - side) / 2 + dy
    gray = cv2.warpAffine(big, m, (FRAME_SIDE, FRAME_SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    noise = rng.normal(0, 2.0, gray.shape)
    frame: np.ndarray = cv2.cvtColor(np.clip(gray + noise, 0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return frame


def write_video(video: EpisodeVideo, stills: dict[str, list[Path]], path: Path, seed: int = 0) -> Path:
    """Render ``video`` to an MJPEG AVI at VIDEO_FPS (frame i shows the posed expression at i / VIDEO_FPS)."""
    images = {k: [read_gray(p) for p in v] for k, v in stills.items()}
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, (FRAME_SIDE, FRAME_SIDE))
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    try:
        for i in range(int(round(video.duration_s * VIDEO_FPS))):
            t = i / VIDEO_FPS
            ep = next((e for e in video.episodes if e.start_s <= t < e.end_s), None)
            faces = images[ep.source] if ep else images[video.neutral_source]
            writer.write(_frame(faces[(i // 2) % len(faces)], rng))
    finally:
        writer.release()
    return path


# --- running the worker's pipeline -------------------------------------------------------------------------------


class CropTap:
    """Wraps the classifier a candidate is scored with so the quality gate is the same for every candidate.

    The pipeline asks ``model_image(crop)`` for each face (the quality gate, and the reuse of a track's last
    classification, look at that image) and then ``submit(images)`` for the faces it classifies. The gate sees the
    shipped model's input (``gate``'s model image); ``predict(crops)`` receives the crops behind the submitted images
    (looked up by the image's bytes), so each candidate (a teacher at 112 px RGB, an ensemble) reads the face at its
    own input size.
    """

    def __init__(self, gate: Any, predict: Callable[[list[np.ndarray]], np.ndarray], name: str) -> None:
        self._gate, self._predict, self._name = gate, predict, name
        self._crops: dict[bytes, np.ndarray] = {}

    @property
    def name(self) -> str:
        """Candidate name (the result's ``summary.model.name``)."""
        return self._name

    @property
    def version(self) -> str:
        """Not a shipped model: an evaluation candidate."""
        return "eval"

    @property
    def temperature(self) -> float:
        """Members apply their own calibration."""
        return 1.0

    def model_image(self, crop: np.ndarray) -> np.ndarray:
        """The gate's model image; the crop is remembered for :meth:`submit`."""
        image = np.ascontiguousarray(self._gate.model_image(crop))
        self._crops[image.tobytes()] = crop
        return image

    def submit(self, images: np.ndarray) -> Future[np.ndarray]:
        """Probabilities for the crops behind these images (EMOTIONS order), as a completed future."""
        crops = [self._crops[np.ascontiguousarray(im).tobytes()] for im in images]
        self._crops.clear()  # every model_image call of a batch comes before its submit
        future: Future[np.ndarray] = Future()
        future.set_result(self._predict(crops).astype(np.float32))
        return future


@dataclass
class VideoScore:
    """One video's result for one candidate."""

    name: str
    family: str
    people_count: int
    frames: int
    readable_frames: int
    episodes: list[dict[str, Any]] = field(default_factory=list)
    spurious: list[dict[str, Any]] = field(default_factory=list)
    neutral_frame_accuracy: float = 0.0
    indicators: dict[str, Any] | None = None


def _runs(times: Sequence[float], labels: Sequence[str]) -> list[tuple[str, float, float, int]]:
    """Maximal runs of one label: (label, first t, last t, frames)."""
    out: list[tuple[str, float, float, int]] = []
    for t, lab in zip(times, labels, strict=True):
        if out and out[-1][0] == lab:
            out[-1] = (lab, out[-1][1], t, out[-1][3] + 1)
        else:
            out.append((lab, t, t, 1))
    return out


def score_timeline(video: EpisodeVideo, times: Sequence[float], smoothed: Sequence[str], raw: Sequence[str],
                   interval_s: float) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """Per-episode results, spurious non-neutral runs in neutral stretches, and the neutral-frame accuracy."""
    t_arr = np.asarray(times, dtype=np.float64)
    episodes = []
    min_frames = max(1, int(round(MIN_SEEN_S / interval_s)))
    for ep in video.episodes:
        inside = (t_arr >= ep.start_s) & (t_arr < ep.end_s)
        idx = [int(i) for i in np.flatnonzero(inside)]
        seen_frames = sum(1 for i in idx if smoothed[i] == ep.label)
        hits = sum(1 for i in idx if raw[i] == ep.label)
        longest = max((n for lab, _, _, n in _runs([times[i] for i in idx], [smoothed[i] for i in idx])
                       if lab == ep.label), default=0)
        hit_rate = hits / len(idx) if len(idx) else 0.0
        seen = longest >= min_frames
        episodes.append({"label": ep.label, "start_s": ep.start_s, "end_s": ep.end_s, "frames": int(len(idx)),
                         "negative": ep.label in NEGATIVE_EMOTIONS, "seen": bool(seen),
                         "smoothed_share": seen_frames / len(idx) if len(idx) else 0.0, "frame_hit_rate": hit_rate,
                         "lost_by_smoothing": bool(hit_rate >= 0.5 and not seen), "source": ep.source})
    neutral_idx = [i for i, t in enumerate(times) if video.label_at(t) == "neutral"
                   and all(not (e.start_s - MARGIN_S <= t < e.end_s + MARGIN_S) for e in video.episodes)]
    spurious = []
    for lab, t0, t1, n in _runs([times[i] for i in neutral_idx], [smoothed[i] for i in neutral_idx]):
        if lab != "neutral" and n >= min_frames:
            spurious.append({"label": lab, "start_s": t0, "end_s": t1, "frames": n})
    accuracy = float(np.mean([smoothed[i] == "neutral" for i in neutral_idx])) if neutral_idx else 0.0
    return episodes, spurious, accuracy


def primary_series(document: dict[str, Any]) -> tuple[list[float], list[str], np.ndarray]:
    """The primary person's readable frames: times, smoothed labels (the document's timeline) and raw
    probabilities (the per-frame classifier output stored in ``frames``)."""
    people = document["people"]
    if not people:
        return [], [], np.zeros((0, len(EMOTIONS)))
    person = people[0]
    smoothed = {p["t"]: p["emotion"] for p in person["timeline"]}
    raw = {f["t"]: face["probabilities"] for f in document["frames"] for face in f["faces"]
           if face["track_id"] == person["track_id"] and face["assessable"]}
    times = [t for t in sorted(smoothed) if t in raw]
    probs = np.array([[raw[t][e] for e in EMOTIONS] for t in times]).reshape(-1, len(EMOTIONS))
    return times, [smoothed[t] for t in times], probs


def score_document(video: EpisodeVideo, document: dict[str, Any],
                   alternatives: dict[str, SmoothingOptions] | None = None) -> dict[str, Any]:
    """The worker's result for one video scored per episode, plus the same raw frames under other smoothers."""
    times, smoothed, probs = primary_series(document)
    raw = [EMOTIONS[int(k)] for k in probs.argmax(1)] if len(probs) else []
    interval = 1.0 / float(document["summary"]["sample_fps"])
    episodes, spurious, neutral_acc = score_timeline(video, times, smoothed, raw, interval)
    score = VideoScore(video.name, video.family, int(document["summary"]["people_count"]),
                       int(document["summary"]["frames_analyzed"]), len(times), episodes, spurious, neutral_acc,
                       document["summary"].get("indicators"))
    out = asdict(score)
    out["alternatives"] = {}
    for name, opts in (alternatives or {}).items():
        _, idx = smooth(probs, times, opts, float(document["summary"]["sample_fps"]))
        alt = [EMOTIONS[int(k)] for k in idx]
        eps, spur, acc = score_timeline(video, times, alt, raw, interval)
        out["alternatives"][name] = {"episodes": eps, "spurious": spur, "neutral_frame_accuracy": acc}
    return out


def summarize(videos: Sequence[dict[str, Any]], key: str | None = None) -> dict[str, Any]:
    """Totals over videos (``key``: an alternative smoother's name, else the worker's own result)."""
    eps = [e for v in videos for e in (v["alternatives"][key]["episodes"] if key else v["episodes"])]
    spur = [s for v in videos for s in (v["alternatives"][key]["spurious"] if key else v["spurious"])]
    neg = [e for e in eps if e["negative"]]

    def share(items: list[dict[str, Any]], flag: str) -> float:
        return sum(1 for e in items if e[flag]) / len(items) if items else 0.0

    per_label = {lab: {"episodes": len(items), "seen": sum(1 for e in items if e["seen"])}
                 for lab in EPISODE_CLASSES if (items := [e for e in eps if e["label"] == lab])}
    per_family: dict[str, dict[str, int]] = {}
    for v in videos:
        fam = per_family.setdefault(v["family"], {"negative_episodes": 0, "negative_seen": 0})
        for e in v["alternatives"][key]["episodes"] if key else v["episodes"]:
            if e["negative"]:
                fam["negative_episodes"] += 1
                fam["negative_seen"] += int(e["seen"])
    return {"episodes": len(eps), "seen": share(eps, "seen"), "negative_episodes": len(neg),
            "negative_seen": share(neg, "seen"), "negative_seen_count": sum(1 for e in neg if e["seen"]),
            "negative_frame_hit_rate": float(np.mean([e["frame_hit_rate"] for e in neg])) if neg else 0.0,
            "lost_by_smoothing": sum(1 for e in eps if e["lost_by_smoothing"]), "spurious": len(spur),
            "per_label": per_label, "per_family": per_family}


ALTERNATIVE_SMOOTHERS: dict[str, SmoothingOptions] = {
    "none": SmoothingOptions(method="none"),
    "hmm_tau0.5": SmoothingOptions(method="hmm", tau_s=0.5),
    "hmm_tau1": SmoothingOptions(method="hmm", tau_s=1.0),
    "hmm_tau4": SmoothingOptions(method="hmm", tau_s=4.0),
    "gaussian_0.3": SmoothingOptions(method="gaussian", sigma_s=0.3),
    "gaussian_0.6": SmoothingOptions(method="gaussian", sigma_s=0.6),
}
"""Other smoothers scored on the same raw frames (the worker's default is not changed here)."""


def run_episode_suite(candidates: dict[str, Any], data_root: Path, opts: EpisodeOptions = EpisodeOptions(),
                      log: Callable[[str], None] = print,
                      alternatives: dict[str, SmoothingOptions] | None = None) -> dict[str, Any]:
    """Generate the videos once, run each candidate classifier (pipeline ``Classifier`` protocol) through the
    worker's pipeline on them and score every video (with the worker's smoothing, and re-smoothed with each of
    ``alternatives``, default :data:`ALTERNATIVE_SMOOTHERS`); returns per-candidate summaries and per-video detail."""
    alternatives = ALTERNATIVE_SMOOTHERS if alternatives is None else alternatives
    from bloomwell_ml.faces import create_detector
    from services.inference_worker.pipeline import PipelineOptions, analyze_video

    options = PipelineOptions()
    plans = plan_videos(data_root, opts)
    report: dict[str, Any] = {"videos": [asdict(v) for v, _ in plans],
                              "smoothing": options.aggregate.smoothing.describe(),
                              "candidates": {}}
    with tempfile.TemporaryDirectory(prefix="bloomwell-episodes-") as tmp:
        paths = [write_video(v, stills, Path(tmp) / f"{v.name}.avi", opts.seed + i)
                 for i, (v, stills) in enumerate(plans)]
        for name, classifier in candidates.items():
            detector = create_detector("yunet", max_faces=5)
            scored = []
            for (video, _), path in zip(plans, paths, strict=True):
                out = analyze_video(path, classifier=classifier, detector=detector, options=options,
                                    duration_hint_s=video.duration_s)
                scored.append(score_document(video, out.document.model_dump(mode="json"), alternatives))
            summary = summarize(scored)
            report["candidates"][name] = {"summary": summary, "videos": scored,
                                          "alternatives": {k: summarize(scored, k) for k in alternatives}}
            log(f"episodes {name}: negative seen {summary['negative_seen_count']}/{summary['negative_episodes']}, "
                f"spurious {summary['spurious']}, lost by smoothing {summary['lost_by_smoothing']}")
    return report
