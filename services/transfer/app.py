"""The transfer service: transfers within and across provinces, the saga, its timeline, cancel.

Every kind (in the province, joint programmes, across provinces, study after graduation), each
a chain of reviews over one process (domain/transfer_process.py), kept in step between the
provinces of a case by the rule that the province holding the case decides (domain/case_copy.py).
"""

from __future__ import annotations

from pathlib import Path

from services.transfer.api import ROUTERS
from services.transfer.handlers import subscriptions
from services.transfer.overdue import start_deadlines
from shared.service import ServiceSpec

SPEC = ServiceSpec(
    name="transfer",
    title="Transfers",
    migrations_dir=Path(__file__).parent / "migrations",
    routers=ROUTERS,
    subscriptions=subscriptions,
    # The working-day calendar, and the sweeper that flags late steps and expires late cases.
    on_start=start_deadlines,
)
