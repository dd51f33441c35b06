"""Selfies are kept only until their face check is done plus the appeal period (ADR 0006)."""

from __future__ import annotations

from shared.service import ServiceContext


def start_selfie_purge(ctx: ServiceContext) -> None:
    """Starts the background task that deletes expired selfies."""
