"""``/v1/analyses`` against the real PostgreSQL and Redis (writes rolled back after each test)."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
from sqlalchemy.ext.asyncio import AsyncSession

from bloomwell_ml.faces import YUNET_PATH, YuNetDetector, file_sha256
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.spec import ModelSpec
from services.api.config import ApiSettings
from services.common import speed
from services.common.analysis import UnassessableReason
from services.common.models import Analysis, AnalysisResult, AnalysisStatus
from services.common.quality import NOSE_DEPTH_RATIO, QualityThresholds
from tests.conftest import SHARED_DATA, auth_header, signup_and_login

pytestmark = pytest.mark.integration


async def upload(
    client: httpx.AsyncClient, user: dict[str, str], path: Path, headers: dict[str, str] | None = None, **form: str
) -> httpx.Response:
    with path.open("rb") as handle:
        return await client.post(
            "/v1/analyses",
            headers={**auth_header(user), **(headers or {})},
            files={"video": (path.name, handle, "video/mp4")},
            data=form,
        )


async def test_upload_is_accepted_stored_and_enqueued(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, storage_dir: Path, api_settings: ApiSettings
) -> None:
    queue = redis_sync.from_url(api_settings.broker_url)
    before = queue.llen(api_settings.inference_queue)
    response = await upload(client, user, face_video, sample_fps="2")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert response.headers["location"] == f"/v1/analyses/{body['id']}"
    assert (storage_dir / "uploads" / f"{body['id']}.mp4").read_bytes() == face_video.read_bytes()
    assert queue.llen(api_settings.inference_queue) == before + 1

    state = (await client.get(f"/v1/analyses/{body['id']}", headers=auth_header(user))).json()
    assert state["status"] == "queued" and state["progress"] == 0
    assert state["filename"] == "fer_test.mp4" and state["sample_fps"] == 2.0
    assert 4.0 < state["duration_s"] < 5.5


async def test_idempotency_key_returns_the_same_job(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path
) -> None:
    first = await upload(client, user, face_video, headers={"Idempotency-Key": "abc-123"})
    second = await upload(client, user, face_video, headers={"Idempotency-Key": "abc-123"})
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"]
    listing = (await client.get("/v1/analyses", headers=auth_header(user))).json()
    assert len(listing["items"]) == 1


async def test_upload_without_token_is_401(client: httpx.AsyncClient, face_video: Path) -> None:
    with face_video.open("rb") as handle:
        response = await client.post("/v1/analyses", files={"video": ("a.mp4", handle, "video/mp4")})
    assert response.status_code == 401


async def test_not_a_video_is_415(client: httpx.AsyncClient, user: dict[str, str], storage_dir: Path) -> None:
    image = SHARED_DATA / "samples_misc" / "fer_justin.jpg"
    response = await upload(client, user, image)
    assert response.status_code == 415
    assert "MP4" in response.json()["detail"]
    assert not list((storage_dir / "uploads").glob("*.jpg"))


async def test_corrupt_video_is_422_and_nothing_is_kept(
    client: httpx.AsyncClient, user: dict[str, str], corrupt_mp4: Path, storage_dir: Path
) -> None:
    before = set((storage_dir / "uploads").glob("*")) if (storage_dir / "uploads").exists() else set()
    response = await upload(client, user, corrupt_mp4)
    assert response.status_code == 422
    assert "could not read" in response.json()["detail"]
    assert set((storage_dir / "uploads").glob("*")) == before
    assert (await client.get("/v1/analyses", headers=auth_header(user))).json()["items"] == []


async def test_missing_file_field_is_422(client: httpx.AsyncClient, user: dict[str, str]) -> None:
    response = await client.post("/v1/analyses", headers=auth_header(user), data={"sample_fps": "5"})
    assert response.status_code == 422


async def test_out_of_range_sample_fps_is_422(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path
) -> None:
    assert (await upload(client, user, face_video, sample_fps="500")).status_code == 422


async def test_too_large_and_too_long_are_refused(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path
) -> None:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    original = settings.max_duration_s
    settings.max_duration_s = 2.0
    try:
        response = await upload(client, user, face_video)
    finally:
        settings.max_duration_s = original
    assert response.status_code == 422
    assert response.json()["detail"].startswith("The video is longer than the 2 s limit")

    huge = b"\x00" * (settings.max_upload_bytes + 200_000)
    response = await client.post(
        "/v1/analyses", headers=auth_header(user), files={"video": ("big.mp4", huge, "video/mp4")}
    )
    assert response.status_code == 413


async def test_other_users_analysis_is_404(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path
) -> None:
    analysis_id = (await upload(client, user, face_video)).json()["id"]
    intruder = await signup_and_login(client)
    for method, path in [
        ("GET", f"/v1/analyses/{analysis_id}"),
        ("GET", f"/v1/analyses/{analysis_id}/result"),
        ("GET", f"/v1/analyses/{analysis_id}/crops/0_0.jpg"),
        ("DELETE", f"/v1/analyses/{analysis_id}"),
    ]:
        assert (await client.request(method, path, headers=auth_header(intruder))).status_code == 404
    assert (await client.get("/v1/analyses", headers=auth_header(intruder))).json()["items"] == []
    assert (await client.get(f"/v1/analyses/{analysis_id}", headers=auth_header(user))).status_code == 200


async def test_result_is_409_until_succeeded(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path
) -> None:
    analysis_id = (await upload(client, user, face_video)).json()["id"]
    response = await client.get(f"/v1/analyses/{analysis_id}/result", headers=auth_header(user))
    assert response.status_code == 409
    assert "not finished" in response.json()["detail"]


def _probabilities(top: str) -> dict[str, float]:
    return {label: (0.94 if label == top else 0.01) for label in EMOTIONS}


async def _finish(db_session: AsyncSession, analysis_id: str) -> None:
    analysis = await db_session.get(Analysis, uuid.UUID(analysis_id))
    assert analysis is not None
    analysis.status = AnalysisStatus.succeeded
    analysis.progress = 1.0
    analysis.dominant_emotion = "happy"
    frames = [
        {"t": 0.0, "faces": [{"box": [1, 2, 30, 40], "emotion": "happy", "probabilities": _probabilities("happy"),
                              "crop": "0_0.jpg"}]},
        {"t": 0.2, "faces": []},
    ]
    summary = {
        "dominant_emotion": "happy",
        "distribution": {label: float(label == "happy") for label in EMOTIONS},
        "mean_probabilities": _probabilities("happy"),
        "frames_analyzed": 2,
        "frames_with_face": 1,
        "duration_s": 0.4,
        "sample_fps": 5.0,
        "model": {"name": "test-model", "version": "1"},
        "indicators": {
            "negative_share": 0.0,
            "sustained_negative_affect": False,
            "longest_negative_run_s": 0.0,
            "expression_variability": 0.0,
            "emotion_changes_per_min": 0.0,
        },
    }
    db_session.add(
        AnalysisResult(analysis_id=analysis.id, summary=summary, frames=frames, model_name="test-model",
                       model_version="1")
    )
    await db_session.commit()


async def test_version_1_result_is_served_as_version_2_and_csv(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, db_session: AsyncSession
) -> None:
    """A row stored before per-person results (no schema_version, no people) is upgraded on read."""
    analysis_id = (await upload(client, user, face_video)).json()["id"]
    await _finish(db_session, analysis_id)

    result = (await client.get(f"/v1/analyses/{analysis_id}/result", headers=auth_header(user))).json()
    assert result["schema_version"] == 2 and result["upgraded_from"] == 1
    assert result["summary"]["dominant_emotion"] == "happy"
    assert list(result["summary"]["mean_probabilities"]) == list(EMOTIONS)
    assert result["summary"]["people_count"] == 1 and result["primary_track_id"] == 1
    face = result["frames"][0]["faces"][0]
    assert face["box"] == [1, 2, 30, 40] and face["track_id"] == 1 and face["assessable"] is True
    (person,) = result["people"]
    assert person["label"] == "Person 1" and person["frames_with_face"] == 1 and person["crop"] == "0_0.jpg"
    assert person["segments"] == [{"start_t": 0.0, "end_t": 0.2, "emotion": "happy", "gap_reason": None,
                                   "confidence": 0.94, "unclear": False}]
    assert person["indicators"]["expression_changes"] == 0
    assert person["indicators"]["emotion_changes_per_min"] is None  # never a rate from a clip under a minute

    for url in (f"/v1/analyses/{analysis_id}/result.csv", f"/v1/analyses/{analysis_id}/result?format=csv"):
        response = await client.get(url, headers=auth_header(user))
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.strip().splitlines()
        assert lines[0] == "t,span_s,track_id,face,x,y,w,h,assessable,unassessable_reason,emotion," + ",".join(EMOTIONS)
        assert lines[1].startswith("0.000,0.200,1,0,1,2,30,40,1,,happy,0.01000,")
        assert lines[2].startswith("0.200,0.200,,")
    # the person's seconds are the sums of the frames' spans, in the JSON as in the CSV
    assert (person["seen_s"], person["readable_s"], person["indicators"]["observed_s"]) == (0.2, 0.2, 0.2)


async def test_crop_served_and_traversal_refused(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, storage_dir: Path
) -> None:
    analysis_id = (await upload(client, user, face_video)).json()["id"]
    crops = storage_dir / "crops" / analysis_id
    crops.mkdir(parents=True)
    (crops / "0_0.jpg").write_bytes(b"\xff\xd8\xff fake jpeg")
    ok = await client.get(f"/v1/analyses/{analysis_id}/crops/0_0.jpg", headers=auth_header(user))
    assert ok.status_code == 200 and ok.headers["content-type"] == "image/jpeg"
    for name in ("..%2F..%2Fjwt_private_key.pem", ".hidden", "missing.jpg"):
        response = await client.get(f"/v1/analyses/{analysis_id}/crops/{name}", headers=auth_header(user))
        assert response.status_code == 404


async def test_list_is_newest_first_with_cursor(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path
) -> None:
    ids = [(await upload(client, user, face_video)).json()["id"] for _ in range(3)]
    page = (await client.get("/v1/analyses?limit=2", headers=auth_header(user))).json()
    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    assert page["next_cursor"]
    rest = (await client.get(f"/v1/analyses?limit=2&cursor={page['next_cursor']}", headers=auth_header(user))).json()
    assert [item["id"] for item in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None
    bad = await client.get("/v1/analyses?cursor=not-a-cursor", headers=auth_header(user))
    assert bad.status_code == 422


async def test_delete_removes_row_and_files(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, storage_dir: Path
) -> None:
    analysis_id = (await upload(client, user, face_video, keep_video="true")).json()["id"]
    video = storage_dir / "uploads" / f"{analysis_id}.mp4"
    assert video.exists()
    assert (await client.delete(f"/v1/analyses/{analysis_id}", headers=auth_header(user))).status_code == 204
    assert not video.exists()
    assert (await client.get(f"/v1/analyses/{analysis_id}", headers=auth_header(user))).status_code == 404


async def test_deleting_account_removes_its_files(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, storage_dir: Path
) -> None:
    analysis_id = (await upload(client, user, face_video)).json()["id"]
    assert (storage_dir / "uploads" / f"{analysis_id}.mp4").exists()
    assert (await client.delete("/auth/me", headers=auth_header(user))).status_code == 204
    assert not (storage_dir / "uploads" / f"{analysis_id}.mp4").exists()
    # the access token is still cryptographically valid, but deleting the account revoked it
    listing = await client.get("/v1/analyses", headers=auth_header(user))
    assert listing.status_code == 401


async def test_public_config(client: httpx.AsyncClient) -> None:
    config = (await client.get("/v1/config")).json()
    assert config["max_upload_bytes"] == 100 * 1024 * 1024
    assert "webm" in config["accepted_extensions"] and "video/webm" in config["accepted_mime_types"]
    # every gap reason a result can carry has its plain words, for the web app's timeline
    assert set(config["gap_phrases"]) == {reason.value for reason in UnassessableReason} | {"not_visible"}
    assert config["gap_phrases"]["turned_away"] == "the face was turned away from the camera"


async def test_public_config_publishes_the_workers_face_check(client: httpx.AsyncClient) -> None:
    """The web app's face check holds the camera to the worker's own standard: its quality thresholds, the face image
    size they are measured at, and YuNet as the worker runs it (the same file, by checksum)."""
    check = (await client.get("/v1/config")).json()["face_check"]
    assert check["quality"] == QualityThresholds().model_dump()
    assert check["image_px"] == ModelSpec().image_size
    assert check["nose_depth_ratio"] == NOSE_DEPTH_RATIO
    detector = check["detector"]
    assert detector["name"] == "yunet" and detector["model_sha256"] == file_sha256(YUNET_PATH)
    made = YuNetDetector()
    assert (detector["max_side"], detector["score_threshold"], detector["min_face_px"]) == (
        made.max_side, made.score_threshold, made.min_face_px)
    assert 0 < detector["nms_threshold"] < 1


async def test_health_and_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/docs")).status_code == 200
    assert "/v1/analyses" in (await client.get("/openapi.json")).json()["paths"]


async def test_list_items_carry_the_primary_persons_thumbnail_and_negative_share(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, db_session: AsyncSession
) -> None:
    """The history needs no request per item: a version-2 result's primary crop and negative share are in the list;
    unfinished and version-1 items have nulls; another user sees none of it."""
    v2_id, v1_id, queued_id = [(await upload(client, user, face_video)).json()["id"] for _ in range(3)]
    await _finish(db_session, v1_id)
    analysis = await db_session.get(Analysis, uuid.UUID(v2_id))
    assert analysis is not None
    analysis.status = AnalysisStatus.succeeded
    summary = {"primary_track_id": 2, "indicators": {"negative_share": 0.25}}
    people = [{"track_id": 1, "crop": "1_0.jpg"}, {"track_id": 2, "crop": "2_5.jpg"}]
    db_session.add(
        AnalysisResult(analysis_id=analysis.id, schema_version=2, summary=summary, people=people, frames=[],
                       model_name="test-model", model_version="1")
    )
    await db_session.commit()

    items = {i["id"]: i for i in (await client.get("/v1/analyses", headers=auth_header(user))).json()["items"]}
    assert items[v2_id]["thumbnail_url"] == f"/v1/analyses/{v2_id}/crops/2_5.jpg"
    assert items[v2_id]["negative_share"] == 0.25
    assert items[v1_id]["thumbnail_url"] is None and items[v1_id]["negative_share"] == 0.0
    assert items[queued_id]["thumbnail_url"] is None and items[queued_id]["negative_share"] is None
    thumb = await client.get(items[v2_id]["thumbnail_url"], headers=auth_header(user))
    assert thumb.status_code == 404  # the path is the crop route's (no file was written here)
    intruder = await signup_and_login(client)
    assert (await client.get("/v1/analyses", headers=auth_header(intruder))).json()["items"] == []


async def test_a_queued_analysis_says_how_long_it_will_take_from_the_measured_speed(
    client: httpx.AsyncClient, user: dict[str, str], face_video: Path, api_settings: ApiSettings
) -> None:
    """``expected_s`` comes from the workers' moving figure in Redis (services.common.speed), not from a guess."""
    redis = redis_sync.from_url(api_settings.redis_url)
    redis.delete(speed.SPEED_KEY)
    try:
        analysis_id = (await upload(client, user, face_video)).json()["id"]
        first = (await client.get(f"/v1/analyses/{analysis_id}", headers=auth_header(user))).json()
        assert first["status"] == "queued" and first["duration_s"] > 0
        assert first["expected_s"] == speed.expected_processing_s(speed.Speed.prior(), first["duration_s"])
        for _ in range(5):  # the workers measure 0.1 s per second of video
            speed.record(redis, speed.STARTUP_S + 1.0, 10.0)
        later = (await client.get(f"/v1/analyses/{analysis_id}", headers=auth_header(user))).json()
        assert later["expected_s"] == speed.expected_processing_s(speed.read(redis), first["duration_s"])
        assert later["expected_s"] < first["expected_s"]
    finally:
        redis.delete(speed.SPEED_KEY)
        redis.close()
