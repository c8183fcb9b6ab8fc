"""Sign-in and signup throttling (``limits``, moving windows kept in Redis, shared by every auth process).

Every check happens *before* a password is hashed or the database is asked, so an attacker's tries cost
one Redis round trip each once the limit is reached. Attempts are counted per client address and per
account (the normalised e-mail); a successful sign-in clears that account's counter, so a user who
mistyped a few times is not held back afterwards.

If Redis cannot be reached the checks let the request through (logged): the bounded password hasher
(``passwords.PasswordHasher``) still caps what an attacker can make the process spend.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from services.auth import messages

log = logging.getLogger("bloomwell.auth.throttle")

KEY_PREFIX = "bloomwell:throttle"


class TooManyAttempts(Exception):
    """A limit was reached; try again in ``retry_after_s`` seconds."""

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Rule:
    """One limit applied to one kind of key (``address``, ``account``)."""

    scope: str
    limit: RateLimitItem


def _account_key(email: str) -> str:
    # the e-mail is hashed so Redis never holds addresses in clear
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def storage_uri(redis_url: str) -> str:
    """The ``limits`` storage URI for a ``redis://`` URL (async redis-py client)."""
    scheme, _, rest = redis_url.partition("://")
    return f"async+{scheme}://{rest}"


class Throttle:
    """Login and signup limits; construct once per process."""

    def __init__(
        self,
        redis_url: str,
        *,
        login_per_address: str,
        login_per_account: str,
        signup_per_address: str,
    ) -> None:
        storage = storage_from_string(storage_uri(redis_url), implementation="redispy", key_prefix=KEY_PREFIX)
        self._limiter = MovingWindowRateLimiter(storage)
        self._login = (Rule("address", parse(login_per_address)), Rule("account", parse(login_per_account)))
        self._signup = (Rule("address", parse(signup_per_address)),)

    async def _hit(self, action: str, rules: tuple[Rule, ...], keys: dict[str, str], detail: str) -> None:
        try:
            for rule in rules:
                identity = (action, rule.scope, keys[rule.scope])
                if not await self._limiter.hit(rule.limit, *identity):
                    stats = await self._limiter.get_window_stats(rule.limit, *identity)
                    retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                    raise TooManyAttempts(detail.format(seconds=retry_after), retry_after)
        except TooManyAttempts:
            raise
        except Exception as exc:  # noqa: BLE001 - Redis unreachable: fail open (the hasher is still bounded)
            log.warning("throttle storage unavailable, not limiting %s: %s", action, exc)

    async def check_login(self, address: str, email: str) -> None:
        """Count one sign-in attempt; raises :class:`TooManyAttempts` once a limit is reached."""
        keys = {"address": address, "account": _account_key(email)}
        await self._hit("login", self._login, keys, messages.TOO_MANY_LOGINS)

    async def login_succeeded(self, email: str) -> None:
        """Forget the account's failed attempts after a correct password."""
        try:
            await self._limiter.clear(self._login[1].limit, "login", "account", _account_key(email))
        except Exception as exc:  # noqa: BLE001
            log.warning("throttle storage unavailable: %s", exc)

    async def check_signup(self, address: str) -> None:
        """Count one signup; raises :class:`TooManyAttempts` once the address's limit is reached."""
        await self._hit("signup", self._signup, {"address": address}, messages.TOO_MANY_SIGNUPS)
