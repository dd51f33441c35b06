"""Enrollment's student events open and close students' accounts (idempotent by student id).

Transfers (DOMAIN.md "Transfers"): a move inside the province takes the account to the new
school, its activation and face template with it (the same province holds them); leaving the
province deletes the template here, and the destination's identity opens an account with none:
the student consents and captures afresh there.
"""

from __future__ import annotations

from datetime import datetime

from opentelemetry import trace
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.identity.domain.account_state import (
    AccountState,
    StudentAccountAction,
    StudentEnrolled,
    StudentLeft,
    transition,
)
from services.identity.models import Account, FaceTemplate
from services.identity.retention import record_ended
from shared.auth import Role
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.china_time import CHINA, today_in_china
from shared.events import EventEnvelope
from shared.events.common import StudentSummary
from shared.events.enrollment import (
    StudentMovedWithinProvince,
    StudentRegistered,
    StudentStatusChanged,
    StudentTransferredIn,
    StudentTransferredOut,
)
from shared.telemetry import ATTR_STUDENT_ID

subscriptions = Subscriptions()


@subscriptions.on(StudentRegistered)
async def when_student_registered_open_account(
    event: StudentRegistered, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await _apply(uow.session, event.student, StudentEnrolled(), meta.occurred_at)


@subscriptions.on(StudentTransferredIn)
async def when_student_transferred_in_open_account(
    event: StudentTransferredIn, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await _apply(uow.session, event.student, StudentEnrolled(), meta.occurred_at)


@subscriptions.on(StudentMovedWithinProvince)
async def when_student_moved_follow_to_new_school(
    event: StudentMovedWithinProvince, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    student = event.student
    trace.get_current_span().set_attribute(ATTR_STUDENT_ID, student.student_id)
    session = uow.session
    account = await session.scalar(
        select(Account).where(Account.student_id == student.student_id).with_for_update()
    )
    if account is None:
        # Registered and moved before we saw the registration: open it where the student is now.
        await _apply(session, student, StudentEnrolled(), meta.occurred_at)
        return
    if account.student_event_at is not None and meta.occurred_at < account.student_event_at:
        return  # a late redelivery of an older event: the newer one already placed the account
    _describe(account, student)
    # The counselor was assigned by the old school's registrar; the new school assigns its own.
    account.counselor_id = None
    account.student_event_at = meta.occurred_at
    # The template stays (same province, same consent); check-in at the new school reads it by
    # school.
    await session.execute(
        update(FaceTemplate)
        .where(FaceTemplate.student_id == student.student_id)
        .values(school_code=student.lineage.school)
    )


@subscriptions.on(StudentTransferredOut)
async def when_student_transferred_out_close_account(
    event: StudentTransferredOut, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await _apply(uow.session, event.student, StudentLeft(), meta.occurred_at)
    await _end_face_data(uow.session, event.student.student_id, "transferred_out", meta.occurred_at)


@subscriptions.on(StudentStatusChanged)
async def when_student_status_changed_schedule_template_deletion(
    event: StudentStatusChanged, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    trace.get_current_span().set_attribute(ATTR_STUDENT_ID, event.student.student_id)
    await _end_face_data(uow.session, event.student.student_id, event.student.status, meta.occurred_at)


async def _end_face_data(session: AsyncSession, student_id: str, status: str, occurred_at: datetime) -> None:
    """Withdrawal and the like delete the face template now; graduation after the retention
    period (domain/template_retention.py); a return to school cancels a scheduled deletion."""
    await record_ended(
        session,
        student_id,
        status,
        changed_on=occurred_at.astimezone(CHINA).date(),
        today=today_in_china(),
    )


async def _apply(
    session: AsyncSession, student: StudentSummary, action: StudentAccountAction, occurred_at: datetime
) -> None:
    trace.get_current_span().set_attribute(ATTR_STUDENT_ID, student.student_id)
    account = await session.scalar(
        select(Account).where(Account.student_id == student.student_id).with_for_update()
    )
    before: AccountState | None = None
    if account is None:
        # A concurrent first event for the same student loses on the unique student_id and is
        # retried by the consumer, then finds this row.
        account = Account(id=uuid7(), role=Role.STUDENT.value, student_id=student.student_id)
        session.add(account)
    elif account.student_event_at is not None and occurred_at < account.student_event_at:
        return  # a late redelivery of an older event: the newer one already decided the status
    else:
        before = AccountState(account.status)
    after = transition(before, action)
    if before is None or isinstance(action, StudentEnrolled):
        _describe(account, student)
    if after is AccountState.NOT_ACTIVATED:
        account.password_hash = None  # activation (issue 4) sets the password afresh
    account.status = after.value
    account.student_event_at = occurred_at
    await session.flush()


def _describe(account: Account, student: StudentSummary) -> None:
    """The student's name, number and school as enrollment now states them."""
    account.username = student.student_number
    account.display_name = student.name
    account.org_code = student.lineage.school
    account.province = student.lineage.province
    account.province_code = student.lineage.province
    account.city_code = student.lineage.city
    account.county_code = student.lineage.county
    account.school_code = student.lineage.school
    account.class_id = student.class_id
    account.id_number_masked = student.id_number_masked
    account.id_number_digest = student.id_number_digest
