"""How fast analyses run, measured: a moving figure of processing seconds per second of video, kept in Redis by the
workers and read by the gateway and the workers to tell a person how long their analysis will take.

Every succeeded job adds its measurement — wall-clock seconds from claiming the job to storing its result, less
:data:`STARTUP_S`, divided by the video's length — to an exponentially weighted moving average (EWMA, weight
:data:`EWMA_ALPHA` for the newest job), updated atomically in Redis (a Lua script) so concurrent workers never lose
a measurement. Until a first job has been measured, :data:`PRIOR_SECONDS_PER_VIDEO_S` stands in. The expected
processing time of a video is :data:`STARTUP_S` plus this figure times its length (:func:`expected_processing_s`):
the one estimate, sent as ``expected_s`` with every progress event and analysis record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis
    import redis.asyncio

SPEED_KEY = "bloomwell:speed"
"""Redis hash: ``seconds_per_video_s`` (the EWMA) and ``jobs`` (how many measurements it holds)."""
EWMA_ALPHA = 0.3
"""Weight of the newest job in the moving figure (its effective memory is about the last 1 / 0.3 ≈ 3 jobs)."""
PRIOR_SECONDS_PER_VIDEO_S = 0.25
"""Stand-in before any job was measured: a 2-core CPU worker at 5 frames/s (bench/bench_eta.py: 0.1–0.35)."""
STARTUP_S = 0.3
"""Fixed seconds per job (claim, probe, store) beside the per-second cost; taken off each measurement."""
MIN_VIDEO_S = 0.5
"""Shorter videos are not measured (their time is all start-up: a rate from them would mislead the next ones)."""

_UPDATE = """
local cur = tonumber(redis.call('HGET', KEYS[1], 'seconds_per_video_s'))
local n = tonumber(redis.call('HGET', KEYS[1], 'jobs') or '0')
local x = tonumber(ARGV[1])
local a = tonumber(ARGV[2])
local new = x
if cur then new = a * x + (1 - a) * cur end
redis.call('HSET', KEYS[1], 'seconds_per_video_s', tostring(new), 'jobs', tostring(n + 1))
return tostring(new)
"""


@dataclass(frozen=True, slots=True)
class Speed:
    """The moving figure: processing seconds per second of video, over ``jobs`` measured jobs (0: the prior)."""

    seconds_per_video_s: float
    jobs: int

    @classmethod
    def prior(cls) -> Speed:
        """The stand-in before any measurement."""
        return cls(PRIOR_SECONDS_PER_VIDEO_S, 0)

    @classmethod
    def from_hash(cls, raw: dict[Any, Any]) -> Speed:
        """The figure from the Redis hash (bytes or str keys); the prior when empty or unreadable."""
        values = {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}
        try:
            rate = float(values["seconds_per_video_s"])
            jobs = int(float(values.get("jobs", 1)))
        except (KeyError, TypeError, ValueError):
            return cls.prior()
        return cls(rate, jobs) if rate > 0 else cls.prior()


def measurement(processing_s: float, video_s: float) -> float | None:
    """One job's processing seconds per second of video (start-up taken off); None when the video is too short to
    say anything."""
    if video_s < MIN_VIDEO_S or processing_s <= 0:
        return None
    return max(processing_s - STARTUP_S, 0.01 * video_s) / video_s


def record(client: redis.Redis, processing_s: float, video_s: float, alpha: float = EWMA_ALPHA) -> Speed | None:
    """Add one job's measurement to the moving figure (atomically); the new figure, or None if not measured."""
    rate = measurement(processing_s, video_s)
    if rate is None:
        return None
    client.eval(_UPDATE, 1, SPEED_KEY, repr(rate), repr(alpha))
    return read(client)


def read(client: redis.Redis) -> Speed:
    """The current figure (synchronous client: the worker)."""
    return Speed.from_hash(client.hgetall(SPEED_KEY))


async def read_async(client: redis.asyncio.Redis) -> Speed:
    """The current figure (asyncio client: the gateway)."""
    return Speed.from_hash(await client.hgetall(SPEED_KEY))


def expected_processing_s(speed: Speed, video_s: float | None) -> float | None:
    """Seconds a job on a ``video_s``-second video is expected to take once a worker has claimed it; None when the
    video's length is unknown."""
    if video_s is None or video_s <= 0:
        return None
    return round(STARTUP_S + speed.seconds_per_video_s * video_s, 2)


async def expected_for_async(client: redis.asyncio.Redis, video_s: float | None) -> float | None:
    """:func:`expected_processing_s` with the current figure, for the gateway; None when Redis cannot say (an
    estimate is a convenience: it never fails a request)."""
    from redis.exceptions import RedisError

    if video_s is None:
        return None
    try:
        figure = await read_async(client)
    except (RedisError, OSError):
        return None
    return expected_processing_s(figure, video_s)
