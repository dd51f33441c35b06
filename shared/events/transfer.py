"""Events the transfer service publishes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.events.common import Lineage
from shared.events.envelope import EventPayload


class CaseParty(BaseModel):
    """Who did a step: enough for a timeline, nothing personal beyond the account name."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    username: str
    role: str
    org: str
    province: str


class TransferRequested(EventPayload):
    """Destination province, local: an application was made; enrollment checks the destination."""

    event_type = "transfer.transfer.requested"

    transfer_id: str
    kind: str
    student_number: str
    student_name: str
    origin_province: str
    destination: Lineage
    destination_class_id: str | None
    grade: int


class CaseOpened(EventPayload):
    """Destination → origin province: a cross-province application to check and later review."""

    event_type = "transfer.case.opened"

    transfer_id: str
    kind: str
    student_number: str
    student_name: str
    origin_province: str
    destination: Lineage
    destination_school_name: str
    destination_class_id: str | None
    grade: int
    reason: str
    applicant: CaseParty
    applied_at: str


class CaseStepTaken(EventPayload):
    """Either way between the two provinces: one step of the case, for the other side's copy."""

    event_type = "transfer.case.step"

    transfer_id: str
    action: str = Field(description="approve | reject | cancel | records_moved")
    level: str | None = Field(None, description="dest_school | dest_bureau | origin_school | origin_bureau")
    state_after: str
    actor: CaseParty
    opinion: str = ""
    at: str


class TransferApproved(EventPayload):
    """Origin province, local: every reviewer approved; enrollment releases the record."""

    event_type = "transfer.transfer.approved"

    transfer_id: str
    student_number: str
    to_province: str
    destination: Lineage
    destination_class_id: str | None
