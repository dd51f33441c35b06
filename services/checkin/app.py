"""The check-in service: registration rounds and geofenced presence verification.

So far it keeps the read models check-ins will be decided against: students and campus
boundaries.
"""

from __future__ import annotations

from pathlib import Path

from services.checkin.handlers import subscriptions
from services.checkin.models import StudentView
from shared.readmodels import student_view_router
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="checkin",
    title="Check-in",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[student_view_router(StudentView, tag="roster")],
    subscriptions=subscriptions,
)
