"""The measured speed behind the wait estimate (issue 21, item 7): a moving figure of processing seconds per second
of video, kept in this session's real Redis, that moves toward what jobs measure and never loses a concurrent
measurement."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from services.common import speed

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(redis_url)
    c.delete(speed.SPEED_KEY)
    yield c
    c.delete(speed.SPEED_KEY)
    c.close()


def test_the_prior_stands_in_until_a_job_is_measured(client: redis.Redis) -> None:
    assert speed.read(client) == speed.Speed.prior()
    assert speed.expected_processing_s(speed.Speed.prior(), 10.0) == round(
        speed.STARTUP_S + 10 * speed.PRIOR_SECONDS_PER_VIDEO_S, 2)
    assert speed.expected_processing_s(speed.Speed.prior(), None) is None
    assert speed.record(client, 0.2, 0.1) is None  # a 0.1 s clip says nothing about speed
    assert speed.read(client).jobs == 0


def test_the_figure_moves_toward_the_measurements(client: redis.Redis) -> None:
    first = speed.record(client, speed.STARTUP_S + 10.0, 10.0)  # 1 s per second of video
    assert first is not None and first.jobs == 1 and first.seconds_per_video_s == pytest.approx(1.0)
    figures = [first.seconds_per_video_s]
    for _ in range(12):  # the worker gets faster: 0.2 s per second of video
        figure = speed.record(client, speed.STARTUP_S + 2.0, 10.0)
        assert figure is not None
        figures.append(figure.seconds_per_video_s)
    assert all(b < a for a, b in zip(figures, figures[1:], strict=False)), figures  # each job pulls it down
    assert figures[1] == pytest.approx(speed.EWMA_ALPHA * 0.2 + (1 - speed.EWMA_ALPHA) * 1.0)
    assert figures[-1] == pytest.approx(0.2, abs=0.02)  # and it settles on what is measured
    assert speed.read(client).jobs == 13
    assert speed.expected_processing_s(speed.read(client), 15.0) == pytest.approx(speed.STARTUP_S + 3.0, rel=0.1)


def test_concurrent_workers_never_lose_a_measurement(client: redis.Redis) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: speed.record(client, speed.STARTUP_S + 5.0, 10.0), range(40)))
    figure = speed.read(client)
    assert figure.jobs == 40 and figure.seconds_per_video_s == pytest.approx(0.5)


async def test_the_gateway_reads_the_same_figure(client: redis.Redis, redis_url: str) -> None:
    import redis.asyncio as aioredis

    speed.record(client, speed.STARTUP_S + 4.0, 10.0)
    async_client = aioredis.from_url(redis_url)
    try:
        assert await speed.expected_for_async(async_client, 10.0) == speed.expected_processing_s(speed.read(client),
                                                                                                   10.0)
        assert await speed.expected_for_async(async_client, None) is None
    finally:
        await async_client.aclose()


def test_a_garbled_figure_falls_back_to_the_prior() -> None:
    assert speed.Speed.from_hash({b"seconds_per_video_s": b"nan?", b"jobs": b"3"}) == speed.Speed.prior()
    assert speed.Speed.from_hash({"seconds_per_video_s": "-1"}) == speed.Speed.prior()
    assert speed.Speed.from_hash({b"seconds_per_video_s": b"0.25", b"jobs": b"4"}) == speed.Speed(0.25, 4)
