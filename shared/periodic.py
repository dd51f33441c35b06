"""A duty a service process performs every so often in the background (the review sweeper, the
round clock, the selfie purge): one step per interval, with jitter so the processes of a
province started together do not all act at the same instant, a failed step logged and retried
at the next one, and a clean stop.

The service has no stop hook: its broker connection is closed at shutdown, just before the
database goes away, so a task also stops by itself once that connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from shared.service import ServiceContext

log = logging.getLogger(__name__)

JITTER = 0.1  # of the interval
STOP_POLL_SECONDS = 1.0


class PeriodicTask:
    """Subclasses name themselves and implement ``step``; ``interval`` may be changed between
    a ``stop`` and a ``start`` (tests run a quick one)."""

    name = "periodic-task"

    def __init__(self, ctx: ServiceContext, interval: float) -> None:
        self.ctx = ctx
        self.interval = interval
        self.steps_done = 0  # for operators and tests
        self._task: asyncio.Task[None] | None = None

    async def step(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name=self.name)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _service_stopped(self) -> bool:
        return self.ctx.amqp.is_closed

    async def run_forever(self) -> None:
        while not self._service_stopped():
            try:
                await self.step()
                self.steps_done += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: a step failed; trying again at the next one", self.name)
            await self._pause()

    async def _pause(self) -> None:
        """One interval with jitter, in short slices so a stopped service is noticed soon."""
        remaining = self.interval * (1 + random.uniform(-JITTER, JITTER))
        while remaining > 0 and not self._service_stopped():
            slice_ = min(remaining, STOP_POLL_SECONDS)
            await asyncio.sleep(slice_)
            remaining -= slice_
