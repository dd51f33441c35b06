"""Requests per client per window, counted in the shared Redis (keys
``<prefix>rate:<name>:<client>``), for anonymous endpoints that anyone can call in a loop.

A fixed window that opens at a client's first request: one ``MULTI`` of INCR, EXPIRE NX and TTL,
so a check is one round trip and the count and its expiry cannot part (a crash between an INCR
and a separate EXPIRE would leave a counter that never expires and a client blocked for good).
A sliding log (a sorted set of timestamps) would smooth the burst a fixed window allows at its
edge, at the cost of a set per client and O(log n) per request; for a limit meant to stop
scraping, not to shape traffic, twice the limit across one window edge is acceptable.

identity's ``LoginThrottle`` counts failures, not requests, and locks an account as well as an
address; the two share the INCR + EXPIRE NX pattern but not the rule, so this is its own module.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from shared.problems import Problem


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    count: int  # requests in the current window, this one included
    retry_after: int  # seconds until the window ends; 0 when allowed


def decide(count: int, ttl: int, *, limit: int, window_seconds: int) -> RateDecision:
    """The ``count``-th request of a window with ``ttl`` seconds left is allowed while it is
    within ``limit``. A TTL Redis could not report (-1 no expiry, -2 no key: only if the key
    vanished between the commands) is read as a whole window, never as "retry now"."""
    if count <= limit:
        return RateDecision(True, count, 0)
    retry_after = ttl if 0 < ttl <= window_seconds else window_seconds
    return RateDecision(False, count, retry_after)


class FixedWindowLimiter:
    """At most ``limit`` requests per client per ``window_seconds``."""

    def __init__(
        self, redis: aioredis.Redis, prefix: str, name: str, *, limit: int, window_seconds: int = 60
    ) -> None:
        if limit < 1 or window_seconds < 1:
            raise ValueError("a rate limit needs a limit and a window of at least 1")
        self._redis = redis
        self._prefix = f"{prefix}rate:{name}:"
        self.limit = limit
        self.window_seconds = window_seconds

    async def hit(self, client: str) -> RateDecision:
        """Count one request of ``client`` and say whether it may go ahead."""
        key = self._prefix + client
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            # NX: later requests do not push the window's end back, so a client that keeps
            # trying is let in again on time.
            pipe.expire(key, self.window_seconds, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        return decide(int(count), int(ttl), limit=self.limit, window_seconds=self.window_seconds)


def too_many_requests(decision: RateDecision, *, what: str) -> Problem:
    """429 problem details with ``Retry-After`` (RFC 9110 §10.2.3, in seconds)."""
    return Problem(
        429,
        "Too many requests",
        slug="rate-limited",
        detail=f"at most {what}; try again in {decision.retry_after} s",
        headers={"Retry-After": str(decision.retry_after)},
    )
