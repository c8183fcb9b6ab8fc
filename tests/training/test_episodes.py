"""Expression-episode videos: the builder's plan and video, the per-episode scorer, and one video through the worker's
real pipeline."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from training.episodes import (
    VIDEO_FPS,
    CropTap,
    Episode,
    EpisodeOptions,
    EpisodeVideo,
    plan_videos,
    run_episode_suite,
    score_timeline,
    summarize,
    write_video,
)

VIDEO = EpisodeVideo("v", "fer2013", 10.0, "n.jpg", (Episode("angry", 2.0, 4.0, "a.jpg"),
                                                      Episode("happy", 6.0, 7.6, "h.jpg")))
TIMES = [round(0.2 * i, 1) for i in range(50)]


def _labels(spans: dict[tuple[float, float], str]) -> list[str]:
    return [next((lab for (a, b), lab in spans.items() if a <= t < b), "neutral") for t in TIMES]


def test_an_episode_held_and_smoothed_is_seen_and_neutral_stays_clean() -> None:
    raw = _labels({(2.0, 4.0): "angry", (6.0, 7.6): "happy"})
    episodes, spurious, neutral_acc = score_timeline(VIDEO, TIMES, raw, raw, 0.2)
    assert [e["seen"] for e in episodes] == [True, True] and episodes[0]["negative"] and not episodes[1]["negative"]
    assert episodes[0]["frame_hit_rate"] == 1.0 and episodes[0]["frames"] == 10
    assert spurious == [] and neutral_acc == 1.0


def test_an_episode_lost_to_smoothing_and_a_spurious_one_are_reported() -> None:
    raw = _labels({(2.0, 4.0): "angry", (6.0, 7.6): "happy"})
    smoothed = _labels({(6.0, 7.6): "happy", (8.8, 9.6): "sad", (0.0, 0.4): "fear"})  # anger smoothed away
    episodes, spurious, neutral_acc = score_timeline(VIDEO, TIMES, smoothed, raw, 0.2)
    assert not episodes[0]["seen"] and episodes[0]["lost_by_smoothing"]
    assert spurious == [{"label": "sad", "start_s": 8.8, "end_s": 9.4, "frames": 4}]  # the 0.4 s fear is too short
    assert neutral_acc < 1.0
    summary = summarize([{"family": "fer2013", "episodes": episodes, "spurious": spurious, "alternatives": {}}])
    assert summary["negative_seen_count"] == 0 and summary["negative_episodes"] == 1
    assert summary["lost_by_smoothing"] == 1 and summary["spurious"] == 1


def test_a_brief_flicker_does_not_count_as_seen() -> None:
    smoothed = _labels({(2.0, 2.4): "angry"})
    episodes, _, _ = score_timeline(VIDEO, TIMES, smoothed, smoothed, 0.2)
    assert not episodes[0]["seen"] and episodes[0]["frame_hit_rate"] == 0.2


def test_plan_is_seeded_and_video_matches_it(tmp_path: Path, data_root: Path) -> None:
    opts = EpisodeOptions(videos_per_family=1, episodes_per_video=2)
    plans = plan_videos(data_root, opts)
    assert [v.name for v, _ in plans] == ["fer2013-0", "ckplus-0"]
    assert [v for v, _ in plans] == [v for v, _ in plan_videos(data_root, opts)]
    for video, stills in plans:
        for a, b in zip(video.episodes, video.episodes[1:], strict=False):
            assert b.start_s - a.end_s >= 2.5
        assert all(1.5 <= e.end_s - e.start_s <= 3.0 for e in video.episodes)
        assert video.neutral_source.startswith("fer2013/test/neutral/")
        assert all(p.is_file() for paths in stills.values() for p in paths)
    ck_video, ck_stills = plans[1]
    assert all(e.source.startswith("ckplus48/") and len(ck_stills[e.source]) == 3 for e in ck_video.episodes)
    path = write_video(ck_video, ck_stills, tmp_path / "v.avi")
    cap = cv2.VideoCapture(str(path))
    frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    ok, first = cap.read()
    cap.release()
    assert ok and first.shape == (384, 384, 3) and frames == int(round(ck_video.duration_s * VIDEO_FPS))


class _Constant:
    """A classifier protocol stand-in for the gate: a 48 px gray model image."""

    def model_image(self, crop: np.ndarray) -> np.ndarray:
        return cv2.resize(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), (48, 48))[:, :, None]


def test_one_video_through_the_worker_pipeline(data_root: Path) -> None:
    seen_crops: list[int] = []

    def predict(crops: list[np.ndarray]) -> np.ndarray:  # "angry" on every face: every episode of it is seen
        seen_crops.extend(c.shape[0] for c in crops)
        p = np.full((len(crops), 7), 0.01, np.float32)
        p[:, 0] = 0.94
        return p

    opts = EpisodeOptions(videos_per_family=1, episodes_per_video=2, families=("ckplus",))
    report = run_episode_suite({"angry-always": CropTap(_Constant(), predict, "angry-always")}, data_root, opts,
                               log=lambda _: None)
    result = report["candidates"]["angry-always"]
    video = result["videos"][0]
    assert video["people_count"] == 1 and video["readable_frames"] > 0.9 * video["frames"]
    angry = [e for e in video["episodes"] if e["label"] == "angry"]
    assert angry and all(e["seen"] for e in angry)
    assert result["summary"]["spurious"] >= 1  # angry in the neutral stretches too
    assert min(seen_crops) > 48  # the candidate got the crops themselves, not the gate's model images
    assert set(result["alternatives"]) >= {"none", "hmm_tau1", "gaussian_0.6"}
