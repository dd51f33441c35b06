"""Value shapes that several events share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProvinceCode = str
StudyForm = Literal["full_time", "part_time"]
IdType = Literal["resident_id", "hk_macao_taiwan", "passport", "none"]
StudentStatus = Literal[
    "in_school",
    "on_leave",
    "suspended",
    "withdrawn",
    "transferred_out",
    "graduated",
    "completed",
    "left_without_completing",
    "deregistered",
    "dead",
    "suspected_dropout",
    "dropout",
    "abroad",  # 出境 (issue 3 status changes); added value, consumers store it as text
]

# The words registrars read for each status (全国学籍系统).
STUDENT_STATUS_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "in_school": "在校",
        "on_leave": "请假",
        "suspended": "休学",
        "withdrawn": "退学",
        "transferred_out": "已转出",
        "graduated": "毕业",
        "completed": "结业",
        "left_without_completing": "肄业",
        "deregistered": "注销",
        "dead": "死亡",
        "suspected_dropout": "疑似辍学",
        "dropout": "辍学",
        "abroad": "出境",
    }
)


class Lineage(BaseModel):
    """Where a record sits in the organisation tree; every jurisdiction filter reads these."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    province: str = Field(pattern=r"^[0-9]{2}$")
    city: str = Field(pattern=r"^[0-9]{4}$")
    county: str = Field(pattern=r"^[0-9]{6}$")
    school: str = Field(pattern=r"^[0-9]{10}$")


class StudentSummary(BaseModel):
    """What a service outside enrollment may know of a student: no full ID number."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    student_id: str
    student_number: str
    name: str
    sex: Literal["M", "F"] | None
    birth_date: date | None
    id_number_masked: str
    # HMAC-SHA256 of the full ID number under the province's key, hex (DESIGN.md: ID numbers are
    # matched by keyed hash). Lets identity check a student's activation without the number.
    id_number_digest: str | None = None
    lineage: Lineage
    school_name: str
    class_id: str | None
    grade: int
    major_code: str | None
    study_length: float
    study_form: StudyForm
    status: StudentStatus


class HistoryEntry(BaseModel):
    """One line of a student's record history; it follows the student across provinces."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    at: str
    province: str
    action: str
    detail: str
