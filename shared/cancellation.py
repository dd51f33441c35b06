"""Telling a task's own cancellation from a ``CancelledError`` that only came up from below.

aiormq fails what a closed channel still owes — pending publisher confirms, RPCs — with
``CancelledError`` when the connection closes with no other reason (a connection it finds stuck,
a reader that ended). A loop meant to run until its service stops must treat that as one more
broker failure and go on; re-raising it ends the loop's task without a word in the log, while
the rest of the process goes on working (the outbox relay logs its own early end, and
``/readyz`` and ``/healthz`` show it).
"""

from __future__ import annotations

import asyncio


def cancelled_by_its_owner() -> bool:
    """True when the running task itself has been asked to stop (``task.cancel()``, which
    ``asyncio.timeout`` also uses and takes back); False when the ``CancelledError`` being
    handled came from something the task awaited."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0
