"""Auth business logic: accounts, credential checks, token issuing and refresh-token rotation."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import redis.asyncio as aioredis
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import messages
from services.auth.config import AuthSettings
from services.auth.passwords import PasswordHasher
from services.auth.schemas import SignupIn, TokenPair
from services.common.models import RefreshToken, User
from services.common.security import revocation
from services.common.security.tokens import AccessClaims, issue_access_token


class AuthError(Exception):
    """A refusal the client should see, with its HTTP status."""

    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EmailAlreadyRegistered(AuthError):
    status_code = 409


class InvalidCredentials(AuthError):
    status_code = 401


class InvalidRefreshToken(AuthError):
    status_code = 401


def normalise_email(email: str) -> str:
    """E-mail addresses are compared case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def _hash_refresh_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def create_user(session: AsyncSession, hasher: PasswordHasher, data: SignupIn) -> User:
    """Register a new account; refuses an e-mail that is already registered (any letter case).

    The password is hashed *before* the address is looked up, so a taken address costs as long to
    refuse as a new one takes to register: the answer's timing tells nothing (the 409 itself does,
    deliberately; signup is throttled per client address to bound enumeration).
    """
    email = normalise_email(str(data.email))
    password_hash = await hasher.hash(data.password)
    taken = await session.scalar(select(User.id).where(User.email == email))
    if taken is not None:
        raise EmailAlreadyRegistered(messages.EMAIL_TAKEN)
    user = User(
        email=email, password_hash=password_hash, first_name=data.first_name, last_name=data.last_name
    )
    session.add(user)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise EmailAlreadyRegistered(messages.EMAIL_TAKEN) from None
    return user


async def authenticate(session: AsyncSession, hasher: PasswordHasher, email: str, password: str) -> User:
    """Return the user for valid credentials; the same error (and cost) whether or not the e-mail exists."""
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = await hasher.verify(password, user.password_hash if user else None)
    if user is None or not ok:
        raise InvalidCredentials(messages.BAD_CREDENTIALS)
    return user


async def issue_token_pair(
    session: AsyncSession, settings: AuthSettings, user_id: uuid.UUID, family_id: uuid.UUID | None = None
) -> TokenPair:
    """Sign an access token and store (hashed) a new refresh token in ``family_id`` (or a new family)."""
    raw_refresh = secrets.token_urlsafe(48)
    family_id = family_id or uuid.uuid4()
    session.add(
        RefreshToken(
            user_id=user_id,
            family_id=family_id,
            token_hash=_hash_refresh_token(raw_refresh),
            expires_at=datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_s),
        )
    )
    await session.commit()
    access, ttl = issue_access_token(
        settings.signing_key_pem,
        settings.jwk["kid"],
        user_id,
        settings.jwt_issuer,
        settings.jwt_audience,
        settings.access_token_ttl_s,
        session_id=family_id,
    )
    return TokenPair(access_token=access, refresh_token=raw_refresh, expires_in=ttl)


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    await session.commit()


async def rotate_refresh_token(
    session: AsyncSession, redis: aioredis.Redis, settings: AuthSettings, raw: str
) -> TokenPair:
    """Spend ``raw`` and issue a new pair in the same family.

    Presenting a token that was already spent (or revoked) is treated as theft: the whole family is
    revoked, so both the thief and the victim must log in again; the family's access tokens end too.
    """
    token = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _hash_refresh_token(raw))
    )
    if token is None:
        raise InvalidRefreshToken(messages.SESSION_INVALID)
    now = datetime.now(UTC)
    family_id, user_id, expires_at = token.family_id, token.user_id, token.expires_at
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult; execute() says Result
        await session.rollback()
        await _revoke_family(session, family_id)
        await revocation.revoke_session(redis, family_id, settings.access_token_ttl_s)
        raise InvalidRefreshToken(messages.SESSION_REUSED)
    if expires_at <= now:
        await session.commit()
        raise InvalidRefreshToken(messages.SESSION_EXPIRED)
    return await issue_token_pair(session, settings, user_id, family_id)


async def logout(
    session: AsyncSession,
    redis: aioredis.Redis,
    settings: AuthSettings,
    raw: str,
    access: AccessClaims | None = None,
) -> None:
    """End the session the refresh token belongs to (its whole family, and the access tokens issued in
    it); ``access``, the caller's own access token if it sent one, is denied as well. Unknown refresh
    tokens are ignored."""
    family_id = await session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == _hash_refresh_token(raw))
    )
    if family_id is not None:
        await _revoke_family(session, family_id)
        await revocation.revoke_session(redis, family_id, settings.access_token_ttl_s)
    if access is not None:
        await revocation.revoke_token(redis, access)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    """The user with ``user_id``, if it still exists."""
    return await session.get(User, user_id)


async def delete_user(
    session: AsyncSession, redis: aioredis.Redis, settings: AuthSettings, user_id: uuid.UUID
) -> None:
    """Delete the account; its tokens, analyses and results go with it (ON DELETE CASCADE), and every
    access token issued to it so far stops working."""
    await revocation.revoke_user(redis, user_id, settings.access_token_ttl_s)
    await session.execute(delete(User).where(User.id == user_id))
    await session.commit()
