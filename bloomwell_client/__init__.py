"""A small typed Python client for the Bloomwell HTTP API, and the ``bloomwell`` command built on it.

>>> from bloomwell_client import BloomwellClient, TokenStore
>>> client = BloomwellClient("http://127.0.0.1:8000", store=TokenStore.default())
>>> client.login("ada@example.org", "a-long-password")          # doctest: +SKIP
>>> created = client.upload("clip.mp4", sample_fps=4)             # doctest: +SKIP
>>> final = client.wait(created.id)                               # doctest: +SKIP
>>> client.result_json(created.id).summary.dominant_emotion       # doctest: +SKIP
"""

from bloomwell_client.client import (
    AnalysisFailed,
    ApiError,
    BloomwellClient,
    BloomwellError,
    NotLoggedIn,
    Tokens,
    TokenStore,
    Unreachable,
)

__all__ = [
    "AnalysisFailed",
    "ApiError",
    "BloomwellClient",
    "BloomwellError",
    "NotLoggedIn",
    "TokenStore",
    "Tokens",
    "Unreachable",
]
