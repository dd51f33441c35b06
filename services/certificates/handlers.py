"""Enrollment's student events keep the graduand read model current."""

from __future__ import annotations

from services.certificates.models import StudentView
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.enrollment import StudentRegistered, StudentTransferredIn, StudentTransferredOut
from shared.readmodels import upsert_student_view

subscriptions = Subscriptions()


@subscriptions.on(StudentRegistered)
async def when_student_registered_keep_view(event: StudentRegistered, meta: EventEnvelope, uow: UnitOfWork) -> None:
    await upsert_student_view(uow.session, StudentView, event.student)


@subscriptions.on(StudentTransferredIn)
async def when_student_transferred_in_keep_view(
    event: StudentTransferredIn, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await upsert_student_view(uow.session, StudentView, event.student)


@subscriptions.on(StudentTransferredOut)
async def when_student_transferred_out_keep_view(
    event: StudentTransferredOut, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await upsert_student_view(uow.session, StudentView, event.student)
