"""Enrollment's events keep the campus boundaries current (the roster: handlers/registry.py)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from services.checkin.handlers.registry import subscriptions
from services.checkin.models import CampusView
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.enrollment import CampusRegistered


@subscriptions.on(CampusRegistered)
async def when_campus_registered_keep_boundary(
    event: CampusRegistered, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    values = {
        "campus_id": event.campus_id,
        "school_code": event.school_code,
        "name": event.name,
        "crs": event.crs,
        "boundary": event.boundary,
    }
    statement = insert(CampusView).values(**values)
    await uow.session.execute(statement.on_conflict_do_update(index_elements=["campus_id"], set_=values))
