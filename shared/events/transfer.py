"""Events the transfer service publishes.

Between provinces (docs/asyncapi/interprovince.yaml): ``transfer.case.opened`` (the applicant's
province to the other), ``transfer.case.checked`` (the origin's check result, to the
destination), ``transfer.case.step`` (every step either side takes, for the other's copy),
``transfer.case.cancel_requested`` (the applicant asks the province holding the case to cancel)
and ``transfer.lookup.requested`` (a destination looks a student up before applying).
Inside a province: ``transfer.transfer.requested`` (enrollment checks the student and the
target) and ``transfer.transfer.approved`` (enrollment moves the record).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.events.common import Lineage, StudentSummary
from shared.events.envelope import EventPayload


class TransferKind(StrEnum):
    """The kinds of transfer; events name them in ``kind`` (both services and partners read them)."""

    IN_PROVINCE = "in_province"  # 省内转学 (seed 004 art. 12)
    JOINT_PROGRAMME = "joint_programme"  # 联合招生合作办学 (art. 15): by the transfer procedure
    CROSS_PROVINCE = "cross_province"  # 跨省转学 (seed 002 §18)
    AFTER_GRADUATION = "after_graduation"  # 毕业后跨省就学 (seed 002 §19)


class CaseParty(BaseModel):
    """Who did a step: enough for a timeline, nothing personal beyond the account name."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    username: str
    role: str
    org: str
    province: str


class EvidenceRef(BaseModel):
    """A file attached to a step (the student's handwritten request, a bureau's letter). The
    bytes stay in the province that received them; the reference and its hash travel."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    evidence_id: str
    filename: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class TimelineLine(BaseModel):
    """One line of a case's timeline, the same in every province holding the case."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    step_id: str = Field(description="chosen by the province that took the step; unique per case")
    action: str = Field(
        description="apply | approve | reject | cancel_requested | cancel | cancel_refused | expire"
        " | records_moved"
    )
    level: str | None = Field(None, description="the review level approved or rejected, e.g. origin_school")
    state_after: str
    pending_level_after: str | None = None
    actor: CaseParty
    opinion: str = ""
    evidence: list[EvidenceRef] = Field(default_factory=list)
    at: str


class TransferRequested(EventPayload):
    """Local: a case was opened here; enrollment checks the sides that are in this province
    (the student at the origin, the school and class at the destination) and answers with
    ``OriginChecked`` / ``DestinationChecked``."""

    event_type = "transfer.transfer.requested"

    transfer_id: str
    kind: str
    student_number: str
    student_name: str
    origin_province: str
    destination: Lineage
    destination_class_id: str | None
    grade: int
    check_origin: bool = False
    check_destination: bool = True


class CaseOpened(EventPayload):
    """Applicant's province → the other province: a case to check and later review."""

    event_type = "transfer.case.opened"

    transfer_id: str
    kind: str
    chain: list[str] = Field(default_factory=list, description="the review levels in order")
    student_number: str
    student_name: str
    origin_province: str
    destination: Lineage
    destination_school_name: str
    destination_class_id: str | None
    grade: int
    reason: str
    # ``applicant`` and ``applied_at`` repeat ``apply_line``'s actor and time: version 1 had them
    # before the line travelled, so they stay (ADR 0001). ``chain`` and ``apply_line`` are
    # optional only to keep the addition inside version 1; the receiver refuses a case without.
    applicant: CaseParty
    applied_at: str
    apply_line: TimelineLine | None = None


class CaseChecked(EventPayload):
    """Origin → destination: the origin's check of the student. ``student`` shows only what the
    applicant needs (name, masked ID, province, school, grade, status) and is absent when the
    name does not match the number."""

    event_type = "transfer.case.checked"

    transfer_id: str
    ok: bool
    reasons: list[str] = Field(default_factory=list)
    student: StudentSummary | None = None
    origin_school_type: str | None = None


class CaseStepTaken(EventPayload):
    """Either way between the two provinces: one step of the case, for the other side's copy."""

    event_type = "transfer.case.step"

    transfer_id: str
    line: TimelineLine


class CancelRequested(EventPayload):
    """Applicant's province → the province holding the case: please cancel. The holder decides
    (domain/case_copy.py) and answers with a ``cancel`` or ``cancel_refused`` step."""

    event_type = "transfer.case.cancel_requested"

    transfer_id: str
    line: TimelineLine


class StudentLookupRequested(EventPayload):
    """Destination → origin: who is this student (跨省转学 申请前查询)? Name and number must match."""

    event_type = "transfer.lookup.requested"

    lookup_id: str
    student_number: str
    student_name: str


class TransferApproved(EventPayload):
    """Origin province, local: every reviewer approved; enrollment releases (or, inside the
    province, moves) the record."""

    event_type = "transfer.transfer.approved"

    transfer_id: str
    kind: str = "cross_province"
    student_number: str
    to_province: str
    destination: Lineage
    destination_class_id: str | None


class TransferStepOverdue(EventPayload):
    """Local: a review step of a case this province holds passed its 10 working days (seed 004
    art. 12); flagged once per case and level to the office above the late one, for notification.
    ``superior_org`` is None when that office is the ministry."""

    event_type = "transfer.step.overdue"

    transfer_id: str
    kind: str
    level: str
    due_on: date
    superior_level: str
    superior_org: str | None = None
