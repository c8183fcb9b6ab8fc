"""Password hashing with Argon2id (passlib + argon2-cffi)."""

from __future__ import annotations

from passlib.context import CryptContext

_context = CryptContext(schemes=["argon2"], deprecated="auto")
_DUMMY_HASH = _context.hash("bloomwell-timing-equaliser")


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check ``password``; with no stored hash, still spend the same time and return False."""
    if password_hash is None:
        _context.verify(password, _DUMMY_HASH)
        return False
    return _context.verify(password, password_hash)
