"""Reading student records, and the shapes a record leaves the service in: the API view (masked
ID), the ``StudentSummary`` other services keep, and the history lines that travel with it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.models import School, SchoolClass, Student, StudentHistory
from shared.events.common import HistoryEntry, IdType, Lineage, StudentStatus, StudentSummary, StudyForm
from shared.idnumber import mask_id_number, mask_student_number


class ClassRef(BaseModel):
    id: str
    name: str


class HistoryLine(BaseModel):
    at: datetime
    province: str
    action: str = Field(description="registered | transferred_out | transferred_in | …")
    detail: str


class StudentView(BaseModel):
    """A student record as the API shows it: the ID number masked (DOMAIN.md)."""

    model_config = ConfigDict(frozen=True)

    id: str
    student_number: str
    name: str
    sex: str | None
    birth_date: date | None
    id_type: IdType
    id_number_masked: str
    nationality: str | None = Field(description="国籍, ISO 3166-1 alpha-3")
    ethnicity: str | None = Field(description="民族, GB/T 3304 code")
    status: StudentStatus
    frozen: bool
    lineage: Lineage
    school_name: str
    school_class: ClassRef | None
    grade: int = Field(description="entry year")
    major_code: str | None
    study_length: float
    study_form: StudyForm
    counselor_id: str | None
    created_at: datetime
    updated_at: datetime
    history: list[HistoryLine]


class StudentList(BaseModel):
    items: list[StudentView]


def lineage_of(student: Student) -> Lineage:
    return Lineage(
        province=student.province_code,
        city=student.city_code,
        county=student.county_code,
        school=student.school_code,
    )


def masked_id(student: Student) -> str:
    return mask_id_number(student.id_number) if student.id_number else ""


def summary_of(student: Student, school_name: str) -> StudentSummary:
    return StudentSummary(
        student_id=student.id,
        student_number=student.student_number,
        name=student.name,
        sex=student.sex,  # "M" | "F" | None, written from a ResidentId
        birth_date=student.birth_date,
        id_number_masked=masked_id(student),
        # Identity checks a student's activation against it without ever seeing the number.
        id_number_digest=student.id_digest,
        lineage=lineage_of(student),
        school_name=school_name,
        class_id=student.class_id,
        grade=student.grade,
        major_code=student.major_code,
        study_length=student.study_length,
        study_form=student.study_form,
        status=student.status,
    )


def history_entry(row: StudentHistory) -> HistoryEntry:
    return HistoryEntry(at=row.at.isoformat(), province=row.province, action=row.action, detail=row.detail)


def view_of(
    student: Student, school_name: str, klass: SchoolClass | None, history: list[StudentHistory]
) -> StudentView:
    return StudentView(
        id=student.id,
        # A formal number is "G" + the ID number: masked like the ID itself.
        student_number=mask_student_number(student.student_number),
        name=student.name,
        sex=student.sex,
        birth_date=student.birth_date,
        id_type=student.id_type,
        id_number_masked=masked_id(student),
        nationality=student.nationality,
        ethnicity=student.ethnicity,
        status=student.status,
        frozen=student.frozen,
        lineage=lineage_of(student),
        school_name=school_name,
        school_class=ClassRef(id=klass.id, name=klass.name) if klass else None,
        grade=student.grade,
        major_code=student.major_code,
        study_length=student.study_length,
        study_form=student.study_form,
        counselor_id=student.counselor_id,
        created_at=student.created_at,
        updated_at=student.updated_at,
        history=[
            HistoryLine(at=h.at, province=h.province, action=h.action, detail=h.detail) for h in history
        ],
    )


async def student_views(
    session: AsyncSession, *conditions: ColumnElement[bool], limit: int = 1, offset: int = 0
) -> list[StudentView]:
    """Students matching ``conditions`` (the caller's jurisdiction always among them), with
    school, class and history, in two queries whatever the number of students."""
    rows = (
        await session.execute(
            select(Student, School.name, SchoolClass)
            .join(School, School.code == Student.school_code)
            .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
            .where(*conditions)
            .order_by(Student.student_number)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    if not rows:
        return []
    history: dict[str, list[StudentHistory]] = defaultdict(list)
    for line in await session.scalars(
        select(StudentHistory)
        .where(StudentHistory.student_id.in_([student.id for student, _, _ in rows]))
        .order_by(StudentHistory.at, StudentHistory.id)
    ):
        history[line.student_id].append(line)
    return [view_of(student, name, klass, history[student.id]) for student, name, klass in rows]


async def history_of(session: AsyncSession, student_id: str) -> list[StudentHistory]:
    return list(
        await session.scalars(
            select(StudentHistory)
            .where(StudentHistory.student_id == student_id)
            .order_by(StudentHistory.at, StudentHistory.id)
        )
    )


async def school_name(session: AsyncSession, code: str) -> str:
    name = await session.scalar(select(School.name).where(School.code == code))
    if name is None:
        raise LookupError(f"school {code} is not in this province's organisation tree")
    return name
