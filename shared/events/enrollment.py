"""Events the enrollment service publishes."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field

from shared.events.common import HistoryEntry, IdType, Lineage, StudentSummary, StudyForm
from shared.events.envelope import EventPayload


class SchoolRegistered(EventPayload):
    event_type = "enrollment.school.registered"

    lineage: Lineage
    name: str
    school_type: str


class CampusRegistered(EventPayload):
    event_type = "enrollment.campus.registered"

    campus_id: str
    school_code: str
    name: str
    crs: Literal["WGS-84", "GCJ-02"]
    boundary: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")


class ClassRegistered(EventPayload):
    event_type = "enrollment.class.registered"

    class_id: str
    school_code: str
    name: str
    grade: int
    major_code: str


class StudentRegistered(EventPayload):
    event_type = "enrollment.student.registered"

    student: StudentSummary


class StudentTransferredOut(EventPayload):
    """The origin released the record: it stays readable, frozen, with this status."""

    event_type = "enrollment.student.transferred_out"

    student: StudentSummary
    transfer_id: str
    to_province: str


class StudentTransferredIn(EventPayload):
    """The destination created the record with the same student number."""

    event_type = "enrollment.student.transferred_in"

    student: StudentSummary
    transfer_id: str
    from_province: str


class DestinationChecked(EventPayload):
    """Destination province: the target class exists and the student has no record here yet."""

    event_type = "enrollment.transfer.destination_checked"

    transfer_id: str
    ok: bool
    reasons: list[str] = Field(default_factory=list)


class OriginChecked(EventPayload):
    """Origin province: the student is ours, the name matches and the status allows a transfer.

    Sent to the destination province and published locally (the origin's transfer service opens
    its copy of the case from it). Only what the applicant needs: masked ID, no birth date.
    """

    event_type = "enrollment.transfer.origin_checked"

    transfer_id: str
    ok: bool
    reasons: list[str] = Field(default_factory=list)
    student: StudentSummary | None = None
    case: dict[str, Any] = Field(description="the opened case as the destination sent it")


class RecordReleased(EventPayload):
    """Origin → destination: the full record moves (自动调档). Signed, broker to broker."""

    event_type = "enrollment.record.released"

    transfer_id: str
    student_id: str
    student_number: str
    name: str
    sex: Literal["M", "F"] | None
    birth_date: date | None
    id_type: IdType
    id_number: str | None
    entry_year: int
    study_length: float
    study_form: StudyForm
    major_code: str | None
    history: list[HistoryEntry]
    destination: Lineage
    destination_class_id: str | None
