"""Every figure of the report comes from one computation (issue 21, items 2 and 3), checked on every shared video
through the real pipeline (the shipped model, YuNet, the worker's own options and duration probe):

* readable ≤ seen ≤ the video's length, for every person, in the JSON document;
* the CSV export adds up to the same seconds (sums of ``span_s``) and the same frame counts as the JSON;
* the indicators' readable time and the segments' read time are the same figure as the person's ``readable_s``;
* a segment is unclear exactly when its confidence is under the document's threshold, and the indicators count no
  negative time in unclear stretches (item 4);
* the report's "How the time divides" (``frontend/src/domain/timeline.ts`` ``timeSplit``: each expression's
  ``distribution`` share less its frames inside unclear segments, those counted as "Unclear") adds up to the
  readable time and its negative part is the indicators' ``negative_share``;
* an unread face is never labelled or pictured (JSON and CSV), and a person's picture is a readable face's crop.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from bloomwell_ml.faces import YuNetDetector
from bloomwell_ml.labels import NEGATIVE_EMOTIONS
from services.api.analyses.service import result_to_csv
from services.common.schemas import ResultDocument
from services.common.video import probe_video
from services.inference_worker.classifier import EmotionClassifier
from services.inference_worker.config import WorkerSettings
from services.inference_worker.pipeline import analyze_video
from tests.time_split import time_split
from tests.worker.conftest import VIDEOS

SHARED_VIDEOS = sorted(p.name for p in VIDEOS.glob("*")) if VIDEOS.is_dir() else []
MS = 1e-3 + 1e-9
"""Durations are stored in milliseconds: sums of stored figures may differ from a stored total by rounding only."""


@pytest.fixture(scope="module")
def analysed(shipped: EmotionClassifier, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[dict[str, tuple[ResultDocument, Path]]]:
    """Each shared video analysed as the worker does it (its settings, its duration probe), crops kept."""
    if not SHARED_VIDEOS:
        pytest.skip(f"no shared videos under {VIDEOS}")
    settings = WorkerSettings()
    out: dict[str, tuple[ResultDocument, Path]] = {}
    for name in SHARED_VIDEOS:
        path = VIDEOS / name
        crops = tmp_path_factory.mktemp("crops")
        duration = probe_video(path, max_duration_s=settings.max_duration_s).duration_s
        output = analyze_video(path, classifier=shipped, detector=YuNetDetector(),
                               options=settings.pipeline_options(None), duration_hint_s=duration, crops_dir=crops)
        out[name] = (output.document, crops)
    yield out


def _csv_rows(document: ResultDocument) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(result_to_csv(document.frames))))


@pytest.mark.parametrize("name", SHARED_VIDEOS)
def test_durations_are_ordered_and_agree_in_json_and_csv(analysed: dict[str, tuple[ResultDocument, Path]],
                                                         name: str) -> None:
    document, _ = analysed[name]
    duration = document.summary.duration_s
    assert math.fsum(f.span_s for f in document.frames) <= duration + 1e-9
    rows = _csv_rows(document)
    for person in document.people:
        label = f"{name}: {person.label}"
        assert 0 <= person.readable_s <= person.seen_s <= duration, label
        mine = [r for r in rows if r["track_id"] == str(person.track_id)]
        csv_seen = math.fsum(float(r["span_s"]) for r in mine)
        csv_readable = math.fsum(float(r["span_s"]) for r in mine if r["assessable"] == "1")
        assert abs(csv_seen - person.seen_s) <= MS and abs(csv_readable - person.readable_s) <= MS, label
        assert (len(mine), sum(r["assessable"] == "1" for r in mine)) == (person.frames_with_face,
                                                                          person.assessable_frames), label
        read_in_segments = math.fsum(s.end_t - s.start_t for s in person.segments if s.emotion is not None)
        assert abs(read_in_segments - person.readable_s) <= MS * len(person.segments), label
        assert all(0 <= s.start_t <= s.end_t <= duration for s in person.segments), label
        threshold = document.summary.unclear_below
        assert all(s.unclear == (s.confidence is not None and s.confidence < threshold)
                   for s in person.segments if s.emotion is not None), label
        clear_negative_s = math.fsum(s.end_t - s.start_t for s in person.segments
                                     if s.emotion in NEGATIVE_EMOTIONS and not s.unclear)
        if person.indicators is not None:
            assert person.indicators.observed_s == person.readable_s, label
            # the indicators skip unclear stretches: no negative time where the model was unsure
            assert person.indicators.longest_negative_run_s <= clear_negative_s + MS * len(person.segments), label
            assert person.indicators.negative_share * person.readable_s <= clear_negative_s + 0.25, label
        else:
            assert person.readable_s == 0, label
    primary = next((p for p in document.people if p.track_id == document.primary_track_id), None)
    if primary is not None:
        assert document.summary.assessable_frames == primary.assessable_frames


@pytest.mark.parametrize("name", SHARED_VIDEOS)
def test_time_split_with_unclear_apart_agrees_with_the_indicators(analysed: dict[str, tuple[ResultDocument, Path]],
                                                                  name: str) -> None:
    document, _ = analysed[name]
    for person in document.people:
        if person.indicators is None:
            continue
        label = f"{name}: {person.label}"
        unclear = [(s.start_t, s.end_t) for s in person.segments if s.emotion is not None and s.unclear]
        n = len(person.timeline)
        assert n == person.assessable_frames, label
        for emotion, share in person.distribution.items():
            assert abs(share - sum(1 for p in person.timeline if p.emotion == emotion) / n) <= 1e-4, label
        clear, unclear_share = time_split(person.model_dump(mode="json"))
        assert abs(sum(clear.values()) + unclear_share - 1) <= 1e-3, label
        assert (unclear_share > 0) == bool(unclear), label
        negative = math.fsum(clear[e] for e in NEGATIVE_EMOTIONS)
        assert abs(negative - person.indicators.negative_share) <= 1e-3, label


@pytest.mark.parametrize("name", SHARED_VIDEOS)
def test_unread_faces_are_never_labelled_or_pictured(analysed: dict[str, tuple[ResultDocument, Path]],
                                                     name: str) -> None:
    document, crops = analysed[name]
    readable_crops: set[str] = set()
    for frame in document.frames:
        for face in frame.faces:
            if face.assessable:
                assert face.emotion is not None
                if face.crop:
                    readable_crops.add(face.crop)
            else:
                assert (face.emotion, face.crop) == (None, None), f"{name} at {frame.t}: {face}"
    for row in _csv_rows(document):
        if row["assessable"] == "0":
            assert row["emotion"] == "", f"{name}: {row}"
    for person in document.people:
        if person.assessable_frames == 0:
            assert person.crop is None, f"{name}: {person.label} was never read but is pictured"
        elif person.crop is not None:
            # the worker's person picture (track_<id>.jpg, from readable faces only) or a readable frame crop
            assert person.crop.startswith("track_") or person.crop in readable_crops, f"{name}: {person.label}"
    on_disk = {p.name for p in crops.iterdir()} if crops.is_dir() else set()
    frame_files = {n for n in on_disk if not n.startswith("track_")}
    assert frame_files == readable_crops, f"{name}: crops of unread faces left on disk"
