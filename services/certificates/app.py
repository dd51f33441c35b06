"""The certificates service: graduation, certificate numbers, printing, electronic certificates,
public verification (issue 8, ADR 0012)."""

from __future__ import annotations

from pathlib import Path

from services.certificates.api import ROUTERS
from services.certificates.handlers import subscriptions
from services.certificates.startup import start_certificates
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="certificates",
    title="Certificates",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=ROUTERS,
    subscriptions=subscriptions,
    on_start=start_certificates,
)
