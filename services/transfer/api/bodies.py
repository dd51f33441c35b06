"""What the transfer API accepts: request bodies, validated at the door (RFC 9457 422s name the field)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from services.transfer.domain.review_levels import ReviewLevel
from shared.events.transfer import TransferKind

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
StudentNumber = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")]
StudentName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
SchoolCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
ProvinceCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
EvidenceIds = Annotated[
    list[Annotated[str, StringConstraints(min_length=1, max_length=36)]], Field(max_length=20)
]


def _year(value: object) -> object:
    # pydantic's lax mode would take true as 1 (STACK.md, schemathesis).
    if isinstance(value, bool):
        raise ValueError("must be an integer year, not a boolean")
    return value


class ApplyBody(BaseModel):
    """One student's application. Across provinces (cross_province, after_graduation) the
    destination school applies for a student of ``origin_province``; inside the province
    (in_province, joint_programme) the origin school applies to move its student to
    ``destination_school``, with the student's handwritten request as evidence."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: TransferKind = TransferKind.CROSS_PROVINCE
    student_number: StudentNumber
    student_name: StudentName
    origin_province: ProvinceCode | None = Field(
        None, description="across provinces: the province the student leaves"
    )
    destination_school: SchoolCode | None = Field(
        None, description="inside the province: the school the student joins"
    )
    destination_class_id: str | None = Field(None, min_length=1, max_length=40)
    grade: int = Field(ge=1990, le=2100, description="the grade (年级) as its entry year")
    reason: Text
    evidence_ids: EvidenceIds = Field(default_factory=list)

    _grade_not_boolean = field_validator("grade", mode="before")(_year)


class BatchStudent(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    student_number: StudentNumber
    student_name: StudentName
    grade: int = Field(ge=1990, le=2100)

    _grade_not_boolean = field_validator("grade", mode="before")(_year)


class BatchBody(BaseModel):
    """Several students of one school moving to one school inside the province; 30 or more go
    up to the province (seed 004 art. 12)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: TransferKind = TransferKind.IN_PROVINCE
    destination_school: SchoolCode
    destination_class_id: str | None = Field(None, min_length=1, max_length=40)
    reason: Text
    evidence_ids: EvidenceIds = Field(min_length=1)
    students: list[BatchStudent] = Field(min_length=1, max_length=500)


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: str = Field("", max_length=1000)
    evidence_ids: EvidenceIds = Field(default_factory=list)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: Text = Field(description="why: the applicant and the other province read it")
    evidence_ids: EvidenceIds = Field(default_factory=list)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opinion: str = Field("", max_length=1000)
    evidence_ids: EvidenceIds = Field(default_factory=list)


class LookupBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    origin_province: ProvinceCode
    student_number: StudentNumber
    student_name: StudentName


class ChainBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    levels: list[ReviewLevel] = Field(min_length=1, max_length=8)
