"""The transfer service's routes. Order matters: the fixed paths under /transfers/ come before
/transfers/{transfer_id}."""

from __future__ import annotations

from services.transfer.api import applications, chains, evidence, lookups, queries, reviews

ROUTERS = [
    applications.router,
    queries.router,
    lookups.router,
    evidence.router,
    chains.router,
    reviews.router,
]
