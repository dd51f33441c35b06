"""The transfer service's routes. Order matters: the fixed paths under /transfers/ come before
/transfers/{transfer_id}."""

from __future__ import annotations

from services.transfer.api import (
    applications,
    chains,
    evidence,
    exports,
    lookups,
    overdue,
    queries,
    reviews,
)

ROUTERS = [
    applications.router,
    queries.router,
    exports.router,
    lookups.router,
    evidence.router,
    chains.router,
    overdue.router,
    reviews.router,
]
