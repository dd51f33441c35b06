"""What the transfer API returns: a case with its state (code and the platform's label), both
sides' places, the check results and the timeline; and the 409 of a refused transition.

Field names follow the table columns, so a case reads the same in the API, the database and
the scenario in deploy/local."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.transfer.domain.cross_province_transfer import (
    STATE_LABELS,
    CrossProvinceTransferState,
    TransitionNotAllowed,
    pending_level,
)
from services.transfer.models import TransferCase, TransferStep
from shared.events.common import StudentSummary
from shared.idnumber import mask_student_number
from shared.problems import Problem


class StepView(BaseModel):
    """One line of the timeline, as ``transfer_step`` keeps it."""

    seq: int
    action: str
    level: str | None
    state_after: CrossProvinceTransferState
    state_after_label: str
    actor_username: str
    actor_role: str
    actor_org: str
    actor_province: str
    opinion: str
    at: datetime


class CaseSummaryView(BaseModel):
    """A case in a list. Both sides' places are flat columns, as ``transfer_case`` keeps them;
    the origin's are null until the origin has checked the student."""

    id: str
    kind: str
    state: CrossProvinceTransferState
    state_label: str = Field(description="the national platform's words, e.g. 调档完毕")
    pending_level: str | None = Field(description="the review the case waits for, if any")
    student_number: str
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
    created_at: datetime
    updated_at: datetime


class CaseView(CaseSummaryView):
    reason: str
    origin_check_reasons: list[str]
    dest_check_reasons: list[str]
    student_summary: StudentSummary | None = Field(
        description="as the origin sent it: masked ID, no birth date"
    )
    timeline: list[StepView]


class CaseListView(BaseModel):
    items: list[CaseSummaryView]


def case_summary(case: TransferCase) -> CaseSummaryView:
    return CaseSummaryView(**_summary_fields(case))


def case_view(case: TransferCase, steps: list[TransferStep]) -> CaseView:
    return CaseView(
        **_summary_fields(case),
        reason=case.reason,
        origin_check_reasons=case.origin_check_reasons or [],
        dest_check_reasons=case.dest_check_reasons or [],
        student_summary=_masked_summary(case.student_summary),
        timeline=[
            StepView(
                seq=step.seq,
                action=step.action,
                level=step.level,
                state_after=CrossProvinceTransferState(step.state_after),
                state_after_label=STATE_LABELS[CrossProvinceTransferState(step.state_after)],
                actor_username=step.actor_username,
                actor_role=step.actor_role,
                actor_org=step.actor_org,
                actor_province=step.actor_province,
                opinion=step.opinion,
                at=step.at,
            )
            for step in steps
        ],
    )


_DERIVED = frozenset({"student_number", "state", "state_label", "pending_level"})


def _masked_summary(stored: dict[str, Any] | None) -> StudentSummary | None:
    if not stored:
        return None
    summary = StudentSummary.model_validate(stored)
    return summary.model_copy(update={"student_number": mask_student_number(summary.student_number)})


def _summary_fields(case: TransferCase) -> dict[str, Any]:
    state = CrossProvinceTransferState(case.state)
    pending = pending_level(state)
    return {
        # Every other field of the summary is a column of the same name.
        **{name: getattr(case, name) for name in CaseSummaryView.model_fields if name not in _DERIVED},
        "student_number": mask_student_number(case.student_number),
        "state": state,
        "state_label": STATE_LABELS[state],
        "pending_level": pending.value if pending is not None else None,
    }


class TransitionRefused(Problem):
    """A 409 whose reason is given in both languages, as the domain states it."""

    def __init__(self, refusal: TransitionNotAllowed) -> None:
        super().__init__(
            409,
            "Transition not allowed",
            title_zh="当前状态不允许此操作",
            detail=refusal.reason,
            slug="transition-not-allowed",
        )
        self.detail_zh = refusal.reason_zh

    def body(self, instance: str) -> dict[str, Any]:
        return {**super().body(instance), "detail_zh": self.detail_zh}
