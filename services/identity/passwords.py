"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second recommendation).

Hashing costs tens of milliseconds of CPU by design, so it runs in a worker thread and never
blocks the event loop that serves other requests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@dataclass(frozen=True)
class PasswordCheck:
    matches: bool
    needs_rehash: bool  # the hash was made with weaker parameters than today's


@cache
def _dummy_hash() -> str:
    return _hasher.hash("xueji: no such account")


def _check(stored_hash: str | None, password: str) -> PasswordCheck:
    # With no hash to check (unknown user, account not activated) we still verify against a
    # dummy hash, so the answer takes as long as for a real account and timing reveals nothing.
    candidate = stored_hash if stored_hash is not None else _dummy_hash()
    try:
        _hasher.verify(candidate, password)
    except (VerificationError, InvalidHashError):
        return PasswordCheck(matches=False, needs_rehash=False)
    if stored_hash is None:
        return PasswordCheck(matches=False, needs_rehash=False)
    return PasswordCheck(matches=True, needs_rehash=_hasher.check_needs_rehash(stored_hash))


async def prepare() -> None:
    """Make the dummy hash at start, so the first unknown username is not slower than the rest."""
    await asyncio.to_thread(_dummy_hash)


async def check_password(stored_hash: str | None, password: str) -> PasswordCheck:
    return await asyncio.to_thread(_check, stored_hash, password)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)
