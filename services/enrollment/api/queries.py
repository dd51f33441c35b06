"""Searching students (学籍查询) and reading one full ID number, which is audit-logged.

The list filters by school, grade, class, major, study form, status, name and full ID number,
always inside the caller's jurisdiction in SQL, and shows ID numbers and formal student numbers
masked (DOMAIN.md "Organisation tree and roles").
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment import audit
from services.enrollment.models import STUDENT_ORG, School, SchoolClass, Student
from services.enrollment.student_numbers import mask_student_number
from services.enrollment.student_query import StudentFilter
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.idnumber import mask_id_number
from shared.jurisdiction import jurisdiction_filter
from shared.problems import not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["queries"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "The caller's role may not do this", **_PROBLEM},
    404: {"description": "No such student inside the caller's jurisdiction", **_PROBLEM},
    422: {"description": "A parameter is invalid; the body names it", **_PROBLEM},
}
# Roles that may see a full ID number when they need it (registrar and bureaus, not counselors).
FULL_ID_ROLES = (Role.SCHOOL_REGISTRAR, Role.COUNTY, Role.CITY, Role.PROVINCE)


class StudentRow(BaseModel):
    id: str
    student_number_masked: str
    name: str
    sex: str | None
    birth_date: date | None
    id_type: str
    id_number_masked: str
    school_code: str
    school_name: str
    class_id: str | None
    class_name: str | None
    grade: int
    major_code: str | None
    study_form: str
    status: str


class StudentPage(BaseModel):
    total: int
    limit: int
    offset: int
    items: list[StudentRow]


class FullIdNumber(BaseModel):
    student_id: str
    id_type: str
    id_number: str


def filtered(principal: Principal, filters: StudentFilter) -> Select[tuple[Student, str, SchoolClass]]:
    """The one query both the search and the export run: the jurisdiction is always in it."""
    return (
        select(Student, School.name, SchoolClass)
        .join(School, School.code == Student.school_code)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(jurisdiction_filter(principal, STUDENT_ORG), *filters.conditions())
    )


async def count_filtered(session: AsyncSession, principal: Principal, filters: StudentFilter) -> int:
    total = await session.scalar(
        select(func.count())
        .select_from(Student)
        .where(jurisdiction_filter(principal, STUDENT_ORG), *filters.conditions())
    )
    return total or 0


def row_of(student: Student, school_name: str, klass: SchoolClass | None) -> StudentRow:
    return StudentRow(
        id=student.id,
        student_number_masked=mask_student_number(student.student_number),
        name=student.name,
        sex=student.sex,
        birth_date=student.birth_date,
        id_type=student.id_type,
        id_number_masked=mask_id_number(student.id_number) if student.id_number else "",
        school_code=student.school_code,
        school_name=school_name,
        class_id=student.class_id,
        class_name=klass.name if klass else None,
        grade=student.grade,
        major_code=student.major_code,
        study_form=student.study_form,
        status=student.status,
    )


@router.get(
    "/students/search",
    summary="Search students in the caller's jurisdiction (masked IDs, paginated)",
    responses=_RESPONSES,
)
async def search_students(
    principal: CurrentPrincipal,
    ctx: Context,
    filters: Annotated[StudentFilter, Query()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> StudentPage:
    async with ctx.sessionmaker() as session:
        total = await count_filtered(session, principal, filters)
        rows = (
            await session.execute(
                filtered(principal, filters)
                .order_by(Student.school_code, Student.grade, Student.name, Student.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
    return StudentPage(
        total=total, limit=limit, offset=offset, items=[row_of(s, name, klass) for s, name, klass in rows]
    )


@router.get(
    "/students/{student_id}/id-number",
    summary="The full ID number of one student, for a stated reason (audit-logged)",
    responses=_RESPONSES,
)
async def read_full_id_number(
    student_id: Annotated[str, Path(max_length=40)],
    reason: Annotated[str, Query(min_length=2, max_length=200, description="why the full number is needed")],
    principal: CurrentPrincipal,
    ctx: Context,
) -> FullIdNumber:
    require_role(principal, *FULL_ID_ROLES)
    async with ctx.uow() as uow:
        student = await uow.session.scalar(
            select(Student).where(Student.id == student_id, jurisdiction_filter(principal, STUDENT_ORG))
        )
        if student is None or student.id_number is None:
            raise not_found(f"student {student_id} (or their ID number)")
        # The read is logged in the same transaction: no number leaves unless its log entry commits.
        await audit.record(
            uow.session,
            principal,
            action="student.id_number.read",
            subject_type="student",
            subject_id=student.id,
            place=audit.Place(
                student.province_code, student.city_code, student.county_code, student.school_code
            ),
            detail=f"查看完整身份证件号 {mask_id_number(student.id_number)}",
            data={"reason": reason.strip()},
        )
        await uow.commit()
    return FullIdNumber(student_id=student.id, id_type=student.id_type, id_number=student.id_number)
