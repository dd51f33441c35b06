"""A task's own cancellation against a CancelledError that came up from something it awaited."""

from __future__ import annotations

import asyncio
import contextlib

from shared.cancellation import cancelled_by_its_owner


async def _seen_when_awaiting(future: asyncio.Future[None]) -> bool:
    try:
        await future
    except asyncio.CancelledError:
        return cancelled_by_its_owner()
    raise AssertionError("the awaited future did not fail")


async def test_cancelled_by_its_owner__a_future_failed_with_cancelled_error_is_not_the_owner() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = asyncio.create_task(_seen_when_awaiting(future))
    await asyncio.sleep(0)
    future.set_exception(asyncio.CancelledError())  # what aiormq does to a closed channel's confirms
    assert await seen is False


async def test_cancelled_by_its_owner__task_cancel_is_the_owner() -> None:
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = asyncio.create_task(_seen_when_awaiting(future))
    await asyncio.sleep(0)
    seen.cancel()
    assert await seen is True


async def test_cancelled_by_its_owner__a_timeout_taken_back_leaves_no_cancellation() -> None:
    async def after_a_timeout() -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.set_exception(asyncio.CancelledError())
        try:
            await future
        except asyncio.CancelledError:
            return cancelled_by_its_owner()
        raise AssertionError("unreachable")

    assert await after_a_timeout() is False
