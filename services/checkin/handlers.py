"""Enrollment's events keep the roster and the campus boundaries current."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert

from services.checkin.models import CampusView, StudentView
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.enrollment import CampusRegistered
from shared.readmodels import keep_student_view

subscriptions = Subscriptions()
keep_student_view(subscriptions, StudentView)


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
