"""The summary of a student's routine verification here, sent with them when they leave for
another province: it joins the history that follows the student (issue 7, "the move")."""

from __future__ import annotations

from sqlalchemy import func, select, union

from services.checkin.domain.fm4 import VALID_RESULTS
from services.checkin.domain.leave_request import GRANTED
from services.checkin.models import Leave, Miss, Round, RoundAttendance
from shared.bus.unit_of_work import UnitOfWork
from shared.china_time import CHINA
from shared.events import EventEnvelope
from shared.events.checkin import VerificationSummaryReleased
from shared.events.enrollment import StudentTransferredOut


async def send_summary_on_departure(
    uow: UnitOfWork, event: StudentTransferredOut, meta: EventEnvelope
) -> None:
    student_id = event.student.student_id
    session = uow.session
    checked_in = await session.scalar(
        select(func.count())
        .select_from(RoundAttendance)
        .where(RoundAttendance.student_id == student_id, RoundAttendance.result.in_(VALID_RESULTS))
    )
    missed, excused = (
        await session.execute(
            select(func.count(), func.count().filter(Miss.excused)).where(Miss.student_id == student_id)
        )
    ).one()
    leaves = await session.scalar(
        select(func.count())
        .select_from(Leave)
        .where(
            Leave.student_id == student_id,
            Leave.state.in_([state.value for state in GRANTED]),
        )
    )
    # The student's rounds are the ones they attended or missed; two outer joins with an OR
    # would pair every attendance of a round with every miss of it before filtering.
    their_rounds = union(
        select(RoundAttendance.round_id).where(RoundAttendance.student_id == student_id),
        select(Miss.round_id).where(Miss.student_id == student_id),
    )
    first, last = (
        await session.execute(
            select(func.min(Round.starts_at), func.max(Round.ends_at)).where(Round.id.in_(their_rounds))
        )
    ).one()
    uow.emit(
        VerificationSummaryReleased(
            student_id=student_id,
            transfer_id=event.transfer_id,
            rounds_checked_in=checked_in or 0,
            rounds_missed=missed or 0,
            misses_excused=excused or 0,
            leaves_granted=leaves or 0,
            first_round_on=first.astimezone(CHINA).date() if first else None,
            last_round_on=last.astimezone(CHINA).date() if last else None,
        ),
        subject=student_id,
        to_province=event.to_province,
    )
