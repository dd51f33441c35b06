"""Events the enrollment service publishes."""

from __future__ import annotations

from datetime import date, datetime
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
    """Destination province: the target class exists and the student has no record here yet;
    with the facts the transfer service's eligibility rules need about the target."""

    event_type = "enrollment.transfer.destination_checked"

    transfer_id: str
    ok: bool
    reasons: list[str] = Field(default_factory=list)
    school_type: str | None = None
    class_major_code: str | None = None
    class_grade: int | None = None


class OriginChecked(EventPayload):
    """Origin province, local: the student is ours and the name matches. The transfer service
    here decides eligibility (its domain/eligibility.py) and tells the destination. Only what
    the applicant needs: masked ID, no birth date; ``student`` is None when the name does not
    match the number."""

    event_type = "enrollment.transfer.origin_checked"

    transfer_id: str
    ok: bool
    reasons: list[str] = Field(default_factory=list)
    student: StudentSummary | None = None
    school_type: str | None = None


class StudentLookupAnswered(EventPayload):
    """Origin → destination: the answer to ``transfer.lookup.requested``: only name, masked ID,
    province, school, grade and status; ``student`` is None when name and number do not match."""

    event_type = "enrollment.lookup.answered"

    lookup_id: str
    found: bool
    student: StudentSummary | None = None


class StudentMovedWithinProvince(EventPayload):
    """A transfer inside the province moved the record to another school (same id and number)."""

    event_type = "enrollment.student.moved"

    student: StudentSummary
    transfer_id: str
    from_lineage: Lineage


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
    kind: str = Field(
        "cross_province",
        description="cross_province (跨省转学) or after_graduation (毕业后跨省就学: the destination "
        "admits the student into a new course of the basic study length)",
    )
    origin_school_type: str | None = Field(
        None,
        description="the origin school's type (general_high, technical, secondary_vocational, ...): "
        "a student moving from another type of school may be admitted with another study length",
    )


class IdDigestAnnounced(EventPayload):
    """To every partner province when a student registers: the keyed hash of the ID number
    (dedupe.py), never the number, so the partner can find a record it holds for the same ID."""

    event_type = "enrollment.id_digest.announced"

    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    student_id: str
    registered_at: datetime


class DuplicateFound(EventPayload):
    """The answer of a partner province that holds an active record with an announced digest:
    both sides open a problem record (DOMAIN.md "Problem records")."""

    event_type = "enrollment.duplicate.found"

    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    announced_student_id: str = Field(description="the record of the province that announced")
    holder_student_id: str = Field(description="the record the answering province holds")
    holder_registered_at: datetime


# --- Issue 3: organisation data, reviews, status and key-data changes, filing -------------------


class SchoolChanged(EventPayload):
    """The province changed a school's name, type, stage or supervising bureau."""

    event_type = "enrollment.school.changed"

    lineage: Lineage
    name: str
    school_type: str
    stage: str | None = None
    supervisor_code: str | None = None


class CampusChanged(EventPayload):
    """A campus's name or boundary changed: check-in fences follow it."""

    event_type = "enrollment.campus.changed"

    campus_id: str
    school_code: str
    name: str
    crs: Literal["WGS-84", "GCJ-02"]
    boundary: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")


class QualificationFiled(EventPayload):
    """An enrolment qualification (招生资质): the school may enrol this major in this year."""

    event_type = "enrollment.qualification.filed"

    school_code: str
    major_code: str
    year: int


class ReviewStepOverdue(EventPayload):
    """A review step passed its 10-working-day deadline; flagged to the level above."""

    event_type = "enrollment.review.overdue"

    review_id: str
    business_type: str
    lineage: Lineage
    level: str
    superior_level: str
    due_on: date


class ReviewDecided(EventPayload):
    """A review item was approved by its last level or returned to the registrar."""

    event_type = "enrollment.review.decided"

    review_id: str
    business_type: str
    lineage: Lineage
    outcome: Literal["approved", "returned"]
    level: str
    student_id: str | None = None


class StudentStatusChanged(EventPayload):
    """A status change (学籍异动) was approved and applied; ``student`` is the record after it."""

    event_type = "enrollment.student.status_changed"

    student: StudentSummary
    change_type: str
    from_status: str
    review_id: str


class StudentKeyDataChanged(EventPayload):
    """A key-data change was approved and applied (names of the fields, never their values)."""

    event_type = "enrollment.student.key_data_changed"

    student: StudentSummary
    fields: list[str]
    review_id: str


class IntakeFiled(EventPayload):
    """A school's intake was filed (备案) with the province."""

    event_type = "enrollment.intake.filed"

    filing_id: str
    lineage: Lineage
    intake_year: int
    season: Literal["autumn", "spring"]
    filed_student_ids: list[str]


# --- Issue 3: problem records (问题学籍) ----------------------------------------------------------


class ProblemRecordUpdated(EventPayload):
    """A problem record of this province moved (acted on, arbitrated, confirmed or resolved)."""

    event_type = "enrollment.problem_record.updated"

    problem_record_id: str
    kind: str
    student_id: str
    lineage: Lineage
    state: str
    resolution: str | None = None


class ProblemRecordActed(EventPayload):
    """To the partner province of a cross-province case: one side changed, gave evidence or
    deleted. Both copies run the same state machine; the case is found by the ID digest."""

    event_type = "enrollment.problem_record.acted"

    kind: str
    id_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    side: Literal["first", "second"]
    choice: Literal["change", "evidence", "delete"]
    student_id: str = Field(description="the acting province's record")


class ProblemRecordArbitrated(EventPayload):
    """To the partner province: the ministry decided a cross-province case both sides evidenced."""

    event_type = "enrollment.problem_record.arbitrated"

    kind: str
    id_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    winner_province: str = Field(pattern=r"^[0-9]{2}$")
    opinion: str = ""
