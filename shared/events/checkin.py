"""Events the check-in service publishes (issue 5).

Round notifications go out once per round with its audience (scope + grades), not once per
student: a notification service fans them out to phones, counselors and registrars.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from shared.events.envelope import EventPayload

RoundKind = Literal["registration", "verification"]
ScopeLevel = Literal["province", "city", "county", "school"]
CheckInResultName = Literal["normal", "internship", "off_campus", "suspected_cheating"]
MissRule = Literal["two_consecutive", "four_cumulative"]
Audience = Literal["students", "counselors", "school_registrars"]
EVERYONE_CONCERNED: tuple[Audience, ...] = ("students", "counselors", "school_registrars")


class RoundNotice(EventPayload):
    """Shared fields of the two round notifications."""

    round_id: str
    kind: RoundKind
    name: str
    term: str = Field(description="the term the round belongs to, e.g. 2026-autumn")
    scope_level: ScopeLevel
    scope_code: str = Field(description="region code (2/4/6 digits) or 10-digit school code")
    grades: list[int]
    starts_at: datetime
    ends_at: datetime
    audience: list[Audience] = Field(default_factory=lambda: list(EVERYONE_CONCERNED))


class RoundOpened(RoundNotice):
    event_type = "checkin.round.opened"


class RoundClosing(RoundNotice):
    """Sent once, a configurable time before the round closes (default two hours)."""

    event_type = "checkin.round.closing"


class RoundClosed(EventPayload):
    event_type = "checkin.round.closed"

    round_id: str
    eligible: int
    completed: int
    missed: int


class CheckInDecided(EventPayload):
    """The result of one check-in attempt; a replaced attempt is followed by its replacement's."""

    event_type = "checkin.check_in.decided"

    check_in_id: str
    round_id: str
    student_id: str
    school_code: str
    result: CheckInResultName
    reasons: list[str] = Field(description="reason codes, e.g. mock_location, face_no_match")
    final: bool = Field(description="normal and internship are final; the others may be replaced")
    decided_at: datetime


class SuspensionProposed(EventPayload):
    """Leave taken in one term went past 15 days: the school should suspend (休学) the student."""

    event_type = "checkin.student.suspension_proposed"

    student_id: str
    school_code: str
    term: str
    leave_days: int


class MissThresholdReached(EventPayload):
    """Two consecutive or four cumulative missed rounds in a term: enrollment opens a pending
    action for the school registrar, due in 5 working days (change study form, suspend or
    withdraw)."""

    event_type = "checkin.misses.threshold_reached"

    prompt_id: str
    student_id: str
    school_code: str
    term: str
    rule: MissRule
    missed_round_ids: list[str]


class MissPromptWithdrawn(EventPayload):
    """An appeal was accepted: the misses are excused and the previous state is restored —
    enrollment closes the pending action and reverts a change made because of it."""

    event_type = "checkin.misses.prompt_withdrawn"

    prompt_id: str
    student_id: str
    school_code: str
    appeal_id: str
    excused_round_ids: list[str]
    decided_on: date


class VerificationSummaryReleased(EventPayload):
    """Origin → destination province, when a student leaves: their routine verification (常态化
    核验) here, summed up, for the history that follows the student. Counts only; no selfies,
    no positions."""

    event_type = "checkin.verification.summarized"

    student_id: str
    transfer_id: str
    rounds_checked_in: int = Field(ge=0, description="rounds with a normal or internship check-in")
    rounds_missed: int = Field(ge=0)
    misses_excused: int = Field(ge=0, description="misses an accepted appeal excused")
    leaves_granted: int = Field(ge=0)
    first_round_on: date | None = None
    last_round_on: date | None = None
