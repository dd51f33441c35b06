"""Failed sign-in counters in Redis (keys ``<prefix>login:fail:{account|address}:<value>``)."""

from __future__ import annotations

import redis.asyncio as aioredis

from services.identity.domain.login_throttle import is_locked_out
from shared.settings import Settings


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self._redis = redis
        self._prefix = f"{settings.redis_prefix}login:fail:"
        self._max = settings.login_max_failures
        self._window = settings.login_lockout_seconds

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return f"{self._prefix}account:{username}", f"{self._prefix}address:{address}"

    async def locked_for(self, username: str, address: str) -> int | None:
        """Seconds until sign-in is allowed again, or None when it is allowed now."""
        account_key, address_key = self._keys(username, address)
        account, address_count = await self._redis.mget(account_key, address_key)
        if not is_locked_out(int(account or 0), int(address_count or 0), self._max):
            return None
        ttls = [await self._redis.ttl(k) for k in (account_key, address_key)]
        return max(max(ttls), 1)

    async def failed(self, username: str, address: str) -> None:
        # The window starts at the first failure and is not extended by later ones (NX), so a
        # lockout ends on time even while someone keeps guessing.
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in self._keys(username, address):
                pipe.incr(key)
                pipe.expire(key, self._window, nx=True)
            await pipe.execute()

    async def succeeded(self, username: str) -> None:
        await self._redis.delete(self._keys(username, "")[0])
