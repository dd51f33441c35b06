"""Opens and closes rounds on time, with their notifications (issue 5, item 1)."""

from __future__ import annotations

from shared.service import ServiceContext


def start_round_clock(ctx: ServiceContext) -> None:
    """Starts the background task that opens, warns about and closes rounds."""
