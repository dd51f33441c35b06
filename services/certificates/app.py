"""The certificates service: graduation, certificate numbers, printing, public verification.

So far it keeps the student read model that graduation will be decided from.
"""

from __future__ import annotations

from pathlib import Path

from services.certificates.handlers import subscriptions
from services.certificates.models import StudentView
from shared.readmodels import student_view_router
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="certificates",
    title="Certificates",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[student_view_router(StudentView, tag="graduands")],
    subscriptions=subscriptions,
)
