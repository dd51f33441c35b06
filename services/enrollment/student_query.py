"""The student list's filters (DOMAIN.md "Organisation tree and roles"; seed 000 lists: grade,
major, class, study length, study form, name, ID number), shared by the search and the dual-post
export so that an export is exactly the list the requester saw."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement

from services.enrollment.domain.student_state import StudentState
from services.enrollment.models import STUDENT_ORG, Student
from shared.events.common import StudyForm
from shared.idnumber import mask_id_number
from shared.jurisdiction import REGION_CODE_PATTERN, within


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class StudentFilter(BaseModel):
    # Used as FastAPI query-parameter model (``Annotated[StudentFilter, Query()]``), so a bad
    # value is a 422 naming the parameter; "ignore" because limit/offset share the query string.
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    region: str | None = Field(
        None,
        pattern=REGION_CODE_PATTERN,
        description="地区: a province (2 digits), city (4) or county (6) code",
    )
    school: str | None = Field(None, pattern=r"^[0-9]{10}$", description="学校标识码")
    grade: int | None = Field(None, ge=1900, le=2200, description="entry year (年级)")
    class_id: str | None = Field(None, min_length=1, max_length=40)
    major: str | None = Field(None, min_length=1, max_length=20, description="major code")
    study_form: StudyForm | None = None
    status: StudentState | None = None
    name: str | None = Field(None, min_length=1, max_length=50, description="part of the name")
    id_number: str | None = Field(
        None, min_length=5, max_length=40, description="the full ID number: exact match only"
    )

    @field_validator("grade", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("grade must be a year, not a boolean")
        return value

    @field_validator("id_number")
    @classmethod
    def _normalise(cls, value: str | None) -> str | None:
        # Stored numbers are upper-case ('X' check digit); a partial number never matches, so
        # the search cannot be used to enumerate IDs by prefix.
        return value.upper() if value else value

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.region is not None:
            # The code's length says its level; a region outside the caller's jurisdiction
            # meets the jurisdiction condition with nothing, so it only ever narrows.
            found.append(within(STUDENT_ORG, self.region))
        if self.school is not None:
            found.append(Student.school_code == self.school)
        if self.grade is not None:
            found.append(Student.grade == self.grade)
        if self.class_id is not None:
            found.append(Student.class_id == self.class_id)
        if self.major is not None:
            found.append(Student.major_code == self.major)
        if self.study_form is not None:
            found.append(Student.study_form == self.study_form)
        if self.status is not None:
            found.append(Student.status == self.status.value)
        if self.name is not None:
            found.append(Student.name.ilike(f"%{_like_escape(self.name)}%", escape="\\"))
        if self.id_number is not None:
            found.append(Student.id_number == self.id_number)
        return found

    def describe(self) -> str:
        """The filter in words, for a workbook's first row; an ID number appears masked."""
        labels = {
            "region": "地区",
            "school": "学校",
            "grade": "年级",
            "class_id": "班级",
            "major": "专业",
            "study_form": "学习形式",
            "status": "学籍状态",
            "name": "姓名包含",
            "id_number": "身份证件号",
        }
        parts = []
        for key, label in labels.items():
            value = getattr(self, key)
            if value is None:
                continue
            shown = mask_id_number(value) if key == "id_number" else str(getattr(value, "value", value))
            parts.append(f"{label}={shown}")
        return "；".join(parts) or "全部（本人管辖范围内）"
