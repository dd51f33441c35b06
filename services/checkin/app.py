"""The check-in service: registration rounds and geofenced presence verification (issue 5).

Students check in from their phones during a round; the position is judged against the
school's campus boundaries, the device signals and — per the round's policy — a face check
done by identity's workers. Rounds open and close by themselves; a closed round records who
missed it, and misses lead to prompts for the school registrar (via enrollment) and appeals.
"""

from __future__ import annotations

from pathlib import Path

from services.checkin.api import ROUTERS
from services.checkin.handlers import subscriptions
from services.checkin.startup import on_start
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="checkin",
    title="Check-in",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=ROUTERS,
    subscriptions=subscriptions,
    on_start=on_start,
)
