"""The result document is one typed model, built by the worker and by the version-1 upgrade, stored as its JSON
dump: the stored shape stays what the dict-building code wrote (golden files), and a document that is not valid
never gets built."""

from __future__ import annotations

import math
import uuid
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from bloomwell_ml.faces import Box
from bloomwell_ml.labels import EMOTIONS
from services.common.analysis import Emotion
from services.common.durations import frame_bounds, frame_spans, total_seconds
from services.common.result_store import result_row, stored_document
from services.common.result_upgrade import upgrade_v1
from services.common.schemas import FaceQuality, ModelInfo, ResultDocument
from services.inference_worker.aggregate import AggregateOptions, FaceObservation, FrameObservation, build_document
from tests.fixtures.result_scenarios import MODEL, load_golden, observation_specs, v1_rows

STORED_PARTS = ("summary", "people", "frames", "primary_track_id", "schema_version")


def observations(spec: dict[str, Any]) -> list[FrameObservation]:
    return [
        FrameObservation(t=frame["t"], faces=[
            FaceObservation(box=Box(*face["box"]), track=face["track"], probabilities=face["probabilities"],
                            quality=FaceQuality(**face["quality"]) if face["quality"] else None,
                            reason=face["reason"], crop=face["crop"])
            for face in frame["faces"]])
        for frame in spec["frames"]
    ]


def built(name: str, spec: dict[str, Any]) -> ResultDocument:
    return build_document(observations(spec), duration_s=spec["duration_s"],
                          options=AggregateOptions(**spec["options"]), model=ModelInfo(**MODEL),
                          person_crop=lambda raw: "track_7.jpg" if raw == 7 else None)


@pytest.mark.parametrize("name", sorted(observation_specs()))
def test_the_worker_stores_the_json_the_dict_builder_wrote(name: str) -> None:
    golden = load_golden()["build_document"][name]
    document = built(name, observation_specs()[name])
    dumped = document.model_dump(mode="json")
    for part in STORED_PARTS:
        assert dumped[part] == golden[part], part
    assert document.upgraded_from is None


@pytest.mark.parametrize("name", sorted(v1_rows()))
def test_the_version_1_upgrade_serves_what_it_served(name: str) -> None:
    golden = ResultDocument.model_validate(load_golden()["upgrade_v1"][name]).model_dump(mode="json")
    summary, frames = v1_rows()[name]
    assert upgrade_v1(summary, frames).model_dump(mode="json") == golden


def test_a_stored_document_reads_back_as_it_was_built() -> None:
    document = built("two_people", observation_specs()["two_people"])
    row = result_row(uuid.uuid4(), document)
    assert (row.schema_version, row.model_name, row.model_version) == (2, MODEL["name"], MODEL["version"])
    assert stored_document(row) == document


def test_a_version_1_row_is_upgraded_on_read() -> None:
    summary, frames = v1_rows()["subject_with_others"]
    row = result_row(uuid.uuid4(), built("no_face", observation_specs()["no_face"]))
    row.schema_version, row.summary, row.people, row.frames = 1, summary, None, frames
    document = stored_document(row)
    assert document.upgraded_from == 1 and document.people[0].label == "Person 1"


def test_a_nan_probability_is_refused_when_the_document_is_built() -> None:
    """A model that outputs NaN must fail the job, not store a document no reader can parse."""
    spec = observation_specs()["two_people"]
    spec["frames"][3]["faces"][0]["probabilities"] = np.full(len(EMOTIONS), math.nan)
    with pytest.raises(ValidationError):
        built("two_people", spec)


def test_the_emotion_enum_is_the_label_space_in_its_order() -> None:
    assert tuple(Emotion) == EMOTIONS


def test_a_row_stored_before_durations_reads_with_the_workers_figures() -> None:
    """A version-2 row written before ``span_s``/``seen_s``/``readable_s`` existed (with labels on unread faces) is
    served with the durations the worker computes today and without those labels."""
    document = built("two_people", observation_specs()["two_people"])
    row = result_row(uuid.uuid4(), document)
    row.people = [{k: v for k, v in p.items() if k not in ("seen_s", "readable_s")} for p in row.people]
    row.frames = [{k: v for k, v in f.items() if k != "span_s"} for f in row.frames]
    unread = next(face for f in row.frames for face in f["faces"] if not face["assessable"])
    unread.update(emotion="angry", crop="4_0.jpg")  # what older workers stored
    assert stored_document(row) == document


def test_frame_spans_add_up_to_the_video_at_most() -> None:
    """Frames sampled past a video's (wrong) length or out of order never make durations exceed it."""
    bounds = frame_bounds([0.0, 0.2, 0.4, 15.4, 15.6], 0.2, 15.5)
    assert bounds == [0.0, 0.2, 0.4, 15.4, 15.5, 15.5]
    assert frame_spans(bounds) == [0.2, 0.2, 15.0, 0.1, 0.0]
    assert total_seconds(frame_spans(bounds)) == 15.5
    assert frame_bounds([0.4, 0.2], 0.2, 1.0) == [0.4, 0.4, 0.4]  # never decreasing
    assert frame_bounds([], 0.2, 1.0) == []
