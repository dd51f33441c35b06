"""What the transfer API returns: a case with its kind, state (code and words), the level it
waits for and which province decides it, both sides' places, the checks and the timeline.

Field names follow the table columns, so a case reads the same in the API, the database and
the scenario in deploy/local."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from services.transfer.domain.kinds import KINDS
from services.transfer.domain.review_levels import LEVEL_LABELS, ReviewLevel
from services.transfer.domain.transfer_process import CaseState, label
from services.transfer.models import TimelineEntry, TransferCase
from services.transfer.overdue import due_on_for
from shared.events.common import StudentSummary
from shared.events.transfer import EvidenceRef, TransferKind
from shared.idnumber import mask_student_number
from shared.workdays import WorkdayCalendar


class StepView(BaseModel):
    """One line of the timeline: who (account, role, organisation, province), what, opinion,
    evidence, when. The same lines, by ``step_id``, in every province of the case."""

    step_id: str
    seq: int
    action: str
    level: str | None
    level_label: str | None
    state_after: CaseState
    pending_level_after: str | None
    actor_username: str
    actor_role: str
    actor_org: str
    actor_province: str
    opinion: str
    evidence: list[EvidenceRef]
    at: datetime


class CaseSummaryView(BaseModel):
    """A case in a list. The cross-province origin's city, county and school are null until the
    origin has checked the student."""

    id: str
    kind: TransferKind
    kind_label: str
    state: CaseState
    state_label: str = Field(description="the registrar's words, e.g. 待转入学校审核, 调档完毕")
    pending_level: str | None = Field(description="the review the case waits for, if any")
    pending_since: datetime
    chain: list[str]
    batch_id: str | None
    student_number: str = Field(description="masked")
    student_name: str
    student_id: str | None
    grade: int
    origin_province: str
    origin_city: str | None
    origin_county: str | None
    origin_school: str | None
    origin_school_name: str | None
    dest_province: str
    dest_city: str
    dest_county: str
    dest_school: str
    dest_school_name: str
    dest_class_id: str | None
    origin_checked: bool | None = Field(description="null until the origin's check is back")
    dest_checked: bool | None = Field(description="null until the destination's check is back")
    cancel_requested: bool
    due_on: date | None = Field(
        None, description="the pending review's due date: 10 working days (seed 004 art. 12)"
    )
    created_at: datetime
    updated_at: datetime
    ended_at: datetime | None


class CaseView(CaseSummaryView):
    reason: str
    check_reasons: list[str]
    student_summary: StudentSummary | None = Field(
        description="as the origin sent it: masked ID, no birth date"
    )
    timeline: list[StepView]


class CaseListView(BaseModel):
    items: list[CaseSummaryView]
    total: int | None = None


_DERIVED = frozenset({"student_number", "kind", "kind_label", "state", "state_label", "due_on"})


def case_summary(case: TransferCase, calendar: WorkdayCalendar | None = None) -> CaseSummaryView:
    return CaseSummaryView(**_summary_fields(case, calendar))


def case_view(
    case: TransferCase, entries: list[TimelineEntry], calendar: WorkdayCalendar | None = None
) -> CaseView:
    return CaseView(
        **_summary_fields(case, calendar),
        reason=case.reason,
        check_reasons=case.check_reasons or [],
        student_summary=_masked_summary(case.student_summary),
        timeline=[step_view(entry) for entry in entries],
    )


def step_view(entry: TimelineEntry) -> StepView:
    return StepView(
        step_id=entry.step_id,
        seq=entry.seq,
        action=entry.action,
        level=entry.level,
        level_label=LEVEL_LABELS[ReviewLevel(entry.level)] if entry.level else None,
        state_after=CaseState(entry.state_after),
        pending_level_after=entry.pending_level_after,
        actor_username=entry.actor_username,
        actor_role=entry.actor_role,
        actor_org=entry.actor_org,
        actor_province=entry.actor_province,
        opinion=entry.opinion,
        evidence=[EvidenceRef.model_validate(e) for e in entry.evidence],
        at=entry.at,
    )


def _masked_summary(stored: dict[str, Any] | None) -> StudentSummary | None:
    if not stored:
        return None
    summary = StudentSummary.model_validate(stored)
    return summary.model_copy(
        update={"student_number": mask_student_number(summary.student_number), "birth_date": None}
    )


def _summary_fields(case: TransferCase, calendar: WorkdayCalendar | None) -> dict[str, Any]:
    kind = TransferKind(case.kind)
    progress = case.progress()
    return {
        # Every other field of the summary is a column of the same name.
        **{name: getattr(case, name) for name in CaseSummaryView.model_fields if name not in _DERIVED},
        "student_number": mask_student_number(case.student_number),
        "kind": kind,
        "kind_label": KINDS[kind].label,
        "state": progress.state,
        "state_label": label(progress),
        "due_on": due_on_for(case, calendar) if calendar is not None else None,
    }
