"""A duty a service process performs every so often in the background (the review sweeper, the
round clock, the selfie purge): one step per interval, with jitter so the processes of a
province started together do not all act at the same instant, a failed step logged and retried
at the next one, and a clean stop.

A started task registers itself with its service, which stops it at shutdown (after the
consumers, before the relay's last flush and the connections close): the step under way may
finish within the shutdown's bound, and is cancelled past it — its transaction then rolls back
and the next process redoes it. A task whose service's broker connection has closed stops too.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random

from shared.cancellation import cancelled_by_its_owner
from shared.service import ServiceContext

log = logging.getLogger(__name__)

JITTER = 0.1  # of the interval
CONNECTION_POLL_SECONDS = 1.0


class PeriodicTask(abc.ABC):
    """Subclasses name themselves and implement ``step``; ``interval`` may be changed between
    a ``stop`` and a ``start`` (tests run a quick one)."""

    name = "periodic-task"

    def __init__(self, ctx: ServiceContext, interval: float) -> None:
        self.ctx = ctx
        self.interval = interval
        self.steps_done = 0  # for operators and tests
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._registered = False

    @abc.abstractmethod
    async def step(self) -> None:
        """One round of the duty; an exception is logged and the next interval tries again."""

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = asyncio.create_task(self.run_forever(), name=self.name)
        if not self._registered:
            self.ctx.at_shutdown(self.stop)
            self._registered = True

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, grace: float = 0.0) -> None:
        """Stop after the step under way, waiting at most ``grace`` seconds for it; then cancel.
        The default (no grace) is an abrupt stop, as a crash would leave things."""
        task = self._task
        if task is None or task.done():
            return
        self._stopping.set()
        if grace > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(grace):
                    await asyncio.shield(task)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _service_stopped(self) -> bool:
        return self._stopping.is_set() or self.ctx.amqp.is_closed

    async def run_forever(self) -> None:
        while not self._service_stopped():
            try:
                await self.step()
                self.steps_done += 1
            except (Exception, asyncio.CancelledError) as exc:
                if isinstance(exc, asyncio.CancelledError) and cancelled_by_its_owner():
                    raise
                log.exception("%s: a step failed; trying again at the next one", self.name)
            if self._service_stopped():
                return
            await self._pause()

    async def _pause(self) -> None:
        """One interval with jitter, ended at once by a stop, and in short slices so a closed
        broker connection (a service stopped without stopping its tasks) is noticed soon."""
        remaining = self.interval * (1 + random.uniform(-JITTER, JITTER))
        while remaining > 0 and not self._service_stopped():
            slice_ = min(remaining, CONNECTION_POLL_SECONDS)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(slice_):
                    await self._stopping.wait()
            remaining -= slice_
