"""A student arriving at a school by a transfer (DOMAIN.md "Transfers": "Check-in rounds, leave
and misses start anew at the destination from the moment of the move").

The roster row has already followed the student (shared/readmodels.py); here the count restarts
(``counting_since``: closing.py and the leave limit ignore what came before), open leave ends
with reason 转学, and the old school's counselor no longer looks after the student.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from services.checkin.domain.leave_request import ENDED_BY_TRANSFER, LeaveState, ending_on_transfer
from services.checkin.models import CounselorView, Leave, StudentView
from shared.bus.unit_of_work import UnitOfWork
from shared.china_time import CHINA
from shared.events import EventEnvelope
from shared.events.common import StudentSummary

_OPEN = (LeaveState.REQUESTED.value, LeaveState.APPROVED.value)


async def start_anew_after_transfer(uow: UnitOfWork, student: StudentSummary, meta: EventEnvelope) -> None:
    session = uow.session
    moved_at = meta.occurred_at
    # A late redelivery of an older move must not move the start back.
    await session.execute(
        update(StudentView)
        .where(StudentView.student_id == student.student_id)
        .values(counting_since=func.greatest(func.coalesce(StudentView.counting_since, moved_at), moved_at))
    )
    moved_on = moved_at.astimezone(CHINA).date()
    open_leave = await session.scalars(
        select(Leave)
        .where(
            Leave.student_id == student.student_id,
            Leave.state.in_(_OPEN),
            Leave.requested_at < moved_at,
        )
        .with_for_update()
    )
    for leave in open_leave:
        ending = ending_on_transfer(LeaveState(leave.state), leave.starts_on, leave.ends_on, moved_on)
        if ending is None:
            continue
        leave.state = ending.state.value
        leave.ended_on = ending.ended_on
        leave.end_reason = ENDED_BY_TRANSFER
    await session.execute(delete(CounselorView).where(CounselorView.student_id == student.student_id))
