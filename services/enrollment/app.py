"""The enrollment service: the organisation tree and student records (学籍) of a province.

Organisation data, registration (single entry, Excel import, students without ID), the
duplicate and identity checks, reviews on configurable approval chains, status and key-data
changes, problem records and their arbitration, filing, negative-list indicators, queries and
双岗 exports, the audit log, the registrar's pending actions opened by check-in's reports, and
its part of a cross-province transfer (DOMAIN.md; issue 3). Routes: ``api/``; event handlers:
``handlers.py``; what runs at start (import worker, review sweeper): ``startup.py``.
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
