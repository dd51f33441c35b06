"""Deciding a check-in that waited for its face (issue 5, item 3; ADR 0006).

Identity's worker answers ``identity.face.verified``; this applies it once (the consumer's inbox
drops redeliveries, and an attempt already decided is left alone should identity answer twice):
the attempt gets its result, the round attendance follows it if the attempt is still the one
that counts, and ``checkin.check_in.decided`` goes out in the same commit. A result for an
attempt a newer one has replaced is recorded on the attempt but changes nothing else: the
latest attempt counts (its event says ``final: false``, the attendance is not touched).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy import select, update

from services.checkin.domain.cheating_signals import Signals
from services.checkin.domain.check_in_result import CheckInResult, Decision, PositionVerdict, decide
from services.checkin.domain.reasons import Reason
from services.checkin.models import CheckIn, RoundAttendance, Selfie
from shared.bus.unit_of_work import UnitOfWork
from shared.events.checkin import CheckInDecided
from shared.events.identity import FaceVerified
from shared.service import ServiceContext

log = logging.getLogger(__name__)

# After the result, a selfie is kept for the appeal period (a student or school disputing a
# face mismatch needs the photo), then purged by selfie_retention.py.
SELFIE_KEPT_AFTER_DECISION = timedelta(days=30)
SELFIE_KEPT_AFTER_MATCH = timedelta(days=1)  # nothing to dispute; a day for operators' checks

_CHEATING_SIGNS = frozenset(
    {Reason.EMULATOR, Reason.MOCK_LOCATION, Reason.SELFIE_REPLAYED, Reason.IMPOSSIBLE_SPEED}
)


def selfie_url(ctx: ServiceContext, check_in_id: UUID) -> str:
    """Where identity's face workers fetch the selfie (service-authenticated, inside the province)."""
    return f"{ctx.settings.checkin_internal_url.rstrip('/')}/internal/v1/selfies/{check_in_id}"


def decided_event(
    check_in_id: UUID,
    round_id: UUID,
    student_id: str,
    school_code: str,
    decision: Decision,
    decided_at: datetime,
    *,
    counts: bool,
) -> CheckInDecided:
    """``counts``: the attempt is still the student's current one for the round; a replaced
    attempt's late result is never final."""
    return CheckInDecided(
        check_in_id=str(check_in_id),
        round_id=str(round_id),
        student_id=student_id,
        school_code=school_code,
        result=decision.result.value,
        reasons=[r.value for r in decision.reasons],
        final=counts and decision.final,
        decided_at=decided_at,
    )


def _known(codes: list[str]) -> list[Reason]:
    known = {r.value for r in Reason}
    return [Reason(code) for code in codes if code in known]


def decision_with_face(row: CheckIn, outcome: str) -> Decision:
    """The accept-time facts kept on the row, with identity's outcome."""
    stored = _known(row.reasons or [])
    position = PositionVerdict(
        CheckInResult(row.position_result or CheckInResult.OFF_CAMPUS.value),
        tuple(r for r in stored if r not in _CHEATING_SIGNS),
    )
    signals = Signals(
        cheating=tuple(r for r in stored if r in _CHEATING_SIGNS),
        shared_device=row.shared_device,
        rooted=row.rooted,
    )
    return decide(position, signals, outcome)


async def record_face_result(
    uow: UnitOfWork, event: FaceVerified, now: datetime | None = None
) -> Decision | None:
    """Apply identity's face result to its attempt; None when there is nothing to apply."""
    now = now or datetime.now(UTC)
    session = uow.session
    try:
        check_in_id = UUID(event.check_in_id)
    except ValueError:
        log.warning("face result for a check-in id that is not a UUID: %r", event.check_in_id)
        return None
    row = await session.scalar(select(CheckIn).where(CheckIn.id == check_in_id).with_for_update())
    if row is None or row.student_id != event.student_id:
        log.warning("face result for unknown check-in %s (student %s)", event.check_in_id, event.student_id)
        return None
    if row.state == "decided":
        return None  # identity answered twice; the first answer stands
    decision = decision_with_face(row, event.outcome)
    row.face_outcome = event.outcome
    row.face_distance = event.distance
    row.state = "decided"
    row.result = decision.result.value
    row.reasons = [r.value for r in decision.reasons]
    row.decided_at = now
    attendance = await session.scalar(
        select(RoundAttendance)
        .where(RoundAttendance.round_id == row.round_id, RoundAttendance.student_id == row.student_id)
        .with_for_update()
    )
    counts = attendance is not None and attendance.current_check_in_id == row.id
    if attendance is not None and counts:
        attendance.result = decision.result.value
        attendance.final = decision.final
        attendance.updated_at = now
    kept = SELFIE_KEPT_AFTER_MATCH if event.outcome == "match" else SELFIE_KEPT_AFTER_DECISION
    await session.execute(update(Selfie).where(Selfie.check_in_id == row.id).values(expires_at=now + kept))
    uow.emit(
        decided_event(row.id, row.round_id, row.student_id, row.school_code, decision, now, counts=counts),
        subject=row.student_id,
    )
    return decision
