"""The enrollment service: the organisation tree and student records (学籍).

So far: seeding the org tree, single registration, reading records in jurisdiction, and its
part of a cross-province transfer. Excel import, reviews and problem records come with issue 3.
"""

from __future__ import annotations

from pathlib import Path

from services.enrollment.api import ROUTERS
from services.enrollment.handlers import subscriptions
from services.enrollment.startup import on_start
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="enrollment",
    title="Enrollment",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=ROUTERS,
    subscriptions=subscriptions,
    on_start=on_start,
)
