"""Frame sampling by timestamp, and decoding ahead on a thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from services.inference_worker.frames import Prefetcher, SampleClock, expected_samples, sample_frames
from tests.worker.conftest import shared_video


def kept_times(clock: SampleClock, times: list[float]) -> list[float]:
    return [t for t in times if clock(t)]


def test_samples_every_sixth_frame_of_30fps_at_5fps() -> None:
    times = [i / 30 for i in range(60)]
    assert kept_times(SampleClock(5.0), times) == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8])


def test_ntsc_rate_keeps_the_rate_without_drift() -> None:
    times = [i * 1001 / 30000 for i in range(30 * 60)]  # one minute at 29.97 fps
    kept = kept_times(SampleClock(5.0), times)
    assert len(kept) == 301  # slots 0.0, 0.2, … 60.0 (the last frame is at 60.03 s)
    gaps = [b - a for a, b in zip(kept, kept[1:], strict=False)]
    assert min(gaps) > 0.16 and max(gaps) < 0.24


def test_millisecond_rounded_timestamps_do_not_skip_slots() -> None:
    times = [round(i / 25, 3) - (0.0004 if i % 2 else 0) for i in range(50)]
    assert len(kept_times(SampleClock(5.0), times)) == 10


def test_rate_above_video_rate_keeps_every_frame() -> None:
    times = [i / 10 for i in range(20)]
    assert kept_times(SampleClock(30.0), times) == times


def test_gap_in_stream_yields_one_frame_not_a_burst() -> None:
    times = [0.0, 0.1, 0.2, 3.0, 3.1, 3.2, 3.3]
    assert kept_times(SampleClock(5.0), times) == [0.0, 0.2, 3.0, 3.2]


def test_max_frames_bounds_the_sample() -> None:
    times = [i / 30 for i in range(300)]
    assert len(kept_times(SampleClock(10.0, max_frames=7), times)) == 7


def test_first_frame_is_kept_whatever_its_time() -> None:
    assert kept_times(SampleClock(1.0), [0.37, 0.9, 1.36, 1.4]) == [0.37, 1.4]


@pytest.mark.parametrize("fps", [0.0, -1.0])
def test_rejects_non_positive_rate(fps: float) -> None:
    with pytest.raises(ValueError):
        SampleClock(fps)


def test_expected_samples() -> None:
    assert expected_samples(15.4, 5.0) == 77
    assert expected_samples(0.1, 5.0) == 1
    assert expected_samples(60.0, 30.0, max_frames=500) == 500


def test_sample_frames_on_real_video() -> None:
    frames = list(sample_frames(shared_video("fer_woman2.mp4"), 2.0))
    assert len(frames) == 31  # 15.5 s at 2 frames/s
    assert frames[0].t == 0.0
    assert all(0.45 < b.t - a.t < 0.55 for a, b in zip(frames, frames[1:], strict=False))
    assert frames[0].image.shape == (336, 596, 3)


def test_prefetcher_yields_every_item_in_order() -> None:
    with Prefetcher(iter(range(100)), depth=3) as items:
        assert list(items) == list(range(100))


def test_prefetcher_hands_the_decoders_error_to_the_consumer_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("broken stream")

    seen = []
    with pytest.raises(ValueError, match="broken stream"), Prefetcher(failing(), depth=8) as items:
        for item in items:
            seen.append(item)
    assert seen == [1, 2]


def test_prefetcher_closed_mid_stream_stops_and_closes_its_source() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    with Prefetcher(endless(), depth=2) as items:
        assert next(items) == 0
    assert closed.wait(30)
    with pytest.raises(StopIteration):
        next(items)


def test_prefetched_sampling_of_a_real_video_matches_direct_sampling() -> None:
    video = shared_video("fer_test.mp4")
    direct = [(f.index, f.t) for f in sample_frames(video, 5.0)]
    with Prefetcher(sample_frames(video, 5.0), depth=4) as frames:
        assert [(f.index, f.t) for f in frames] == direct
    assert len(direct) > 10
