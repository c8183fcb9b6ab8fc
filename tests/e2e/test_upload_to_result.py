"""End to end: sign up → log in → upload a real face video → real Celery worker → result, crops, cleanup.

The gateway and auth run in process (committing to this session's PostgreSQL database); the worker is a
real ``celery worker`` subprocess consuming the real Redis queue, loading a checkpoint through the real
loader (a tiny random-weight model, so the labels are arbitrary but every shape and invariant is real).
"""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import httpx
import pytest

from bloomwell_ml.labels import EMOTIONS
from tests.conftest import VIDEOS, auth_header, signup_and_login

pytestmark = pytest.mark.integration


async def wait_until_finished(client: httpx.AsyncClient, headers: dict[str, str], analysis_id: str) -> dict:
    deadline = time.monotonic() + 180
    seen: list[str] = []
    while time.monotonic() < deadline:
        state = (await client.get(f"/v1/analyses/{analysis_id}", headers=headers)).json()
        if not seen or seen[-1] != state["status"]:
            seen.append(state["status"])
        if state["status"] in ("succeeded", "failed"):
            return state
        await asyncio.sleep(0.3)
    raise AssertionError(f"analysis did not finish; statuses seen: {seen}")


async def upload(client: httpx.AsyncClient, headers: dict[str, str], video: Path, **form: str) -> str:
    """POST the video to /v1/analyses; returns the new analysis id."""
    with video.open("rb") as handle:
        created = await client.post("/v1/analyses", headers=headers, files={"video": (video.name, handle)}, data=form)
    assert created.status_code == 202, created.text
    return created.json()["id"]


@pytest.fixture
async def user(committing_client: httpx.AsyncClient) -> dict[str, str]:
    return await signup_and_login(committing_client)


async def test_face_video_is_analysed_end_to_end(
    committing_client: httpx.AsyncClient, user: dict[str, str], inference_worker: object, storage_dir: Path
) -> None:
    headers = auth_header(user)
    analysis_id = await upload(committing_client, headers, VIDEOS / "fer_test.mp4", sample_fps="4")

    state = await wait_until_finished(committing_client, headers, analysis_id)
    assert state["status"] == "succeeded", state
    assert state["progress"] == 1.0 and state["started_at"] and state["finished_at"]
    assert state["dominant_emotion"] in EMOTIONS

    result = (await committing_client.get(f"/v1/analyses/{analysis_id}/result", headers=headers)).json()
    summary, frames = result["summary"], result["frames"]
    assert summary["frames_analyzed"] == len(frames)
    assert abs(len(frames) - 4.7 * 4) <= 2  # 4.7 s sampled at 4 frames/s
    assert [frame["t"] for frame in frames] == sorted(frame["t"] for frame in frames)
    assert summary["frames_with_face"] >= len(frames) // 2  # a face is on screen throughout
    assert list(summary["mean_probabilities"]) == list(EMOTIONS)
    assert math.isclose(sum(summary["mean_probabilities"].values()), 1.0, abs_tol=1e-3)
    assert math.isclose(sum(summary["distribution"].values()), 1.0, abs_tol=1e-3)
    assert summary["dominant_emotion"] == max(summary["mean_probabilities"], key=summary["mean_probabilities"].get)
    assert summary["model"]["name"] == "tiny-random-test"
    face = next(face for frame in frames for face in frame["faces"] if face["assessable"])
    assert len(face["box"]) == 4 and face["box"][2] > 20 and face["box"][3] > 20
    assert face["emotion"] == max(face["probabilities"], key=face["probabilities"].get)
    assert all(f["emotion"] is None for frame in frames for f in frame["faces"] if not f["assessable"])

    crop_name = next(f["crop"] for frame in frames for f in frame["faces"] if f["crop"])
    crop = await committing_client.get(f"/v1/analyses/{analysis_id}/crops/{crop_name}", headers=headers)
    assert crop.status_code == 200 and crop.content[:2] == b"\xff\xd8"

    csv_text = (await committing_client.get(f"/v1/analyses/{analysis_id}/result.csv", headers=headers)).text
    assert len(csv_text.strip().splitlines()) >= 1 + summary["frames_with_face"]

    # the uploaded video is deleted once processed (keep_video was not asked for)
    assert not list((storage_dir / "uploads").glob(f"{analysis_id}.*"))

    assert (await committing_client.delete(f"/v1/analyses/{analysis_id}", headers=headers)).status_code == 204
    assert not (storage_dir / "crops" / analysis_id).exists()
    assert (await committing_client.get(f"/v1/analyses/{analysis_id}", headers=headers)).status_code == 404


async def test_keep_video_keeps_the_upload(
    committing_client: httpx.AsyncClient, user: dict[str, str], inference_worker: object, storage_dir: Path
) -> None:
    headers = auth_header(user)
    video = VIDEOS / "huimiang_1543684773_neutral_to_angry.avi"
    analysis_id = await upload(committing_client, headers, video, keep_video="true", sample_fps="2")
    state = await wait_until_finished(committing_client, headers, analysis_id)
    assert state["status"] == "succeeded", state
    assert list((storage_dir / "uploads").glob(f"{analysis_id}.avi"))
