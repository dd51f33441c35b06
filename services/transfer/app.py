"""The transfer service: transfers within and across provinces, the saga, its timeline, cancel.

So far: the cross-province transfer of the walking skeleton (issue 2).
"""

from __future__ import annotations

from pathlib import Path

from services.transfer.api import router
from services.transfer.handlers import subscriptions
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="transfer",
    title="Transfers",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=[router],
    subscriptions=subscriptions,
)
