"""The certificates service: graduation, certificate numbers, printing, public verification.

So far it keeps the student read model that graduation will be decided from.
"""

from __future__ import annotations

from pathlib import Path

from services.certificates.api import router
from services.certificates.handlers import subscriptions
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="certificates",
    title="Certificates",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    subscriptions=subscriptions,
)
