"""Enrollment's events keep the read models the pre-graduate list is built from: the student
view, filed qualifications (招生资质), filed intakes (备案) and open problem records (问题学籍)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from services.certificates.models import FiledStudent, OpenProblemRecord, QualificationView, StudentView
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.enrollment import IntakeFiled, ProblemRecordUpdated, QualificationFiled
from shared.readmodels import keep_student_view

# services/enrollment/domain/problem_record_state.py ProblemRecordState.RESOLVED: the one state
# that closes a problem record (not imported: a service reads another's events, not its code).
RESOLVED = "resolved"

subscriptions = Subscriptions()
keep_student_view(subscriptions, StudentView)


@subscriptions.on(QualificationFiled)
async def when_qualification_filed_keep_view(
    event: QualificationFiled, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await uow.session.execute(
        insert(QualificationView)
        .values(school_code=event.school_code, major_code=event.major_code, year=event.year)
        .on_conflict_do_nothing()
    )


@subscriptions.on(IntakeFiled)
async def when_intake_filed_keep_filed_students(
    event: IntakeFiled, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    if not event.filed_student_ids:
        return
    rows = [
        {"student_id": student_id, "filing_id": event.filing_id, "intake_year": event.intake_year}
        for student_id in dict.fromkeys(event.filed_student_ids)
    ]
    statement = insert(FiledStudent).values(rows)
    # A student filed again (a corrected filing) keeps the latest filing.
    await uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=["student_id"],
            set_={"filing_id": statement.excluded.filing_id, "intake_year": statement.excluded.intake_year},
        )
    )


@subscriptions.on(ProblemRecordUpdated)
async def when_problem_record_updated_keep_open_ones(
    event: ProblemRecordUpdated, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    if event.state == RESOLVED:
        await uow.session.execute(
            delete(OpenProblemRecord).where(OpenProblemRecord.problem_record_id == event.problem_record_id)
        )
        return
    values = {"student_id": event.student_id, "kind": event.kind, "state": event.state}
    await uow.session.execute(
        insert(OpenProblemRecord)
        .values(problem_record_id=event.problem_record_id, **values)
        .on_conflict_do_update(index_elements=["problem_record_id"], set_=values)
    )
