"""FixedWindowLimiter against the real Redis on localhost, under a unique key prefix."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from shared.rate_limit import FixedWindowLimiter
from shared.testing import unique_name


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url("redis://127.0.0.1:6379/0")
    yield client
    await client.aclose()


async def test_fixed_window_limiter__n_per_client_then_retry_after(redis_client: aioredis.Redis) -> None:
    prefix = unique_name("xjt-rate") + ":"
    limiter = FixedWindowLimiter(redis_client, prefix, "test", limit=3, window_seconds=60)
    try:
        decisions = [await limiter.hit("10.0.0.1") for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert 0 < decisions[-1].retry_after <= 60
        assert (await limiter.hit("10.0.0.2")).allowed  # another client has its own count
        ttl = await redis_client.ttl(f"{prefix}rate:test:10.0.0.1")
        assert 0 < ttl <= 60  # the counter always expires
    finally:
        await redis_client.delete(f"{prefix}rate:test:10.0.0.1", f"{prefix}rate:test:10.0.0.2")


async def test_fixed_window_limiter__window_ends_on_time(redis_client: aioredis.Redis) -> None:
    prefix = unique_name("xjt-rate") + ":"
    limiter = FixedWindowLimiter(redis_client, prefix, "test", limit=1, window_seconds=1)
    try:
        assert (await limiter.hit("c")).allowed
        refused = await limiter.hit("c")
        assert not refused.allowed and refused.retry_after == 1
        await asyncio.sleep(1.2)
        assert (await limiter.hit("c")).allowed
    finally:
        await redis_client.delete(f"{prefix}rate:test:c")


async def test_fixed_window_limiter__concurrent_hits_are_counted_once_each(
    redis_client: aioredis.Redis,
) -> None:
    prefix = unique_name("xjt-rate") + ":"
    limiter = FixedWindowLimiter(redis_client, prefix, "test", limit=10, window_seconds=60)
    try:
        decisions = await asyncio.gather(*(limiter.hit("c") for _ in range(25)))
        assert sorted(d.count for d in decisions) == list(range(1, 26))
        assert sum(d.allowed for d in decisions) == 10
    finally:
        await redis_client.delete(f"{prefix}rate:test:c")
