"""Short-lived in-process memory of what every check-in reads and rarely changes: rounds,
campus fences, device keys (issue 5: the accept path must stay within a few round-trips).

Each entry lives ``ttl`` seconds; a process learns of a change at the latest then (rounds:
seconds, campuses: a minute). Concurrent misses of one key share a single load, so a burst
of check-ins from one school right after start costs one query, not hundreds. Absent values
(``None``) are not remembered: a device key registered a moment ago must work at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(self, ttl: float, *, max_entries: int = 200_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._loading: dict[K, asyncio.Future[V | None]] = {}

    async def get(self, key: K, load: Callable[[], Awaitable[V | None]]) -> V | None:
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody else needs to
            raise
        else:
            future.set_result(value)
            if value is not None:
                self.put(key, value)
            return value
        finally:
            del self._loading[key]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
