"""Student records over HTTP: register one student (single entry), read records in jurisdiction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.domain.registration import IdType, formal_student_number, is_registrable_id_type
from services.enrollment.domain.student_state import RELEASED_STATES, StudentState
from services.enrollment.models import (
    STUDENT_ID_NUMBER_ACTIVE,
    STUDENT_NUMBER_UNIQUE,
    STUDENT_ORG,
    School,
    SchoolClass,
    Student,
    StudentHistory,
)
from services.enrollment.records import StudentList, StudentView, student_views, summary_of, view_of
from shared.auth import CurrentPrincipal, Role, require_role
from shared.events.common import StudyForm
from shared.events.enrollment import StudentRegistered
from shared.idnumber import InvalidIdNumber, ResidentId, parse_resident_id
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, field_problem, not_found
from shared.service import Context
from shared.telemetry import ATTR_STUDENT_ID

router = APIRouter(prefix="/api/v1", tags=["students"])
tracer = trace.get_tracer("xueji.enrollment")

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    404: {"description": "No such student inside the caller's jurisdiction", **_PROBLEM},
    422: {"description": "A parameter is invalid", **_PROBLEM},
}


class RegisterStudent(BaseModel):
    """Single entry of a new student by the school registrar (DOMAIN.md "Enrollment")."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f\x7f]+$")
    id_type: IdType
    id_number: str = Field(min_length=1, max_length=40)
    class_id: str = Field(min_length=1, max_length=40)
    study_length: float = Field(3, ge=1, le=6, multiple_of=0.5, description="学制, years")
    study_form: StudyForm = "full_time"

    @field_validator("study_length", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # pydantic's lax mode would read true as 1 year.
        if isinstance(value, bool):
            raise ValueError("study_length must be a number of years, not a boolean")
        return value


def already_registered() -> Problem:
    # Says nothing about where the student is registered: the caller may not see that record.
    return Problem(
        409,
        "Already registered",
        title_zh="该身份证号已在本省注册学籍",
        slug="already-registered",
        detail="a student with this ID number is already registered in this province",
    )


@router.post(
    "/students",
    status_code=201,
    summary="Register a new student of the caller's school (单个新增)",
    responses={
        401: {"description": "No or invalid token", **_PROBLEM},
        403: {"description": "Only a school registrar may register students", **_PROBLEM},
        409: {"description": "The ID number is already registered in this province", **_PROBLEM},
        422: {"description": "A field is invalid; the body names it", **_PROBLEM},
    },
)
async def register_student(
    body: RegisterStudent, principal: CurrentPrincipal, ctx: Context, response: Response
) -> StudentView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    if not is_registrable_id_type(body.id_type):
        raise field_problem(
            "id_type",
            "only resident ID (resident_id) students can be registered so far: single entry with "
            "guardian evidence for other ID types is not built yet",
            "目前仅支持居民身份证学生注册：其他证件类型需监护人佐证的单个录入功能尚未开放",
        )
    try:
        resident_id = parse_resident_id(body.id_number)
    except InvalidIdNumber as exc:
        raise field_problem("id_number", exc.message_en, exc.message_zh) from None

    async with ctx.uow() as uow:
        found = await _class_of_school(uow.session, body.class_id, principal.org)
        if found is None:
            raise field_problem("class_id", "no such class in your school", "本校没有该班级")
        klass, school = found
        if await _is_registered(uow.session, resident_id):
            raise already_registered()
        student, history = _new_record(body, resident_id, klass, school, province=ctx.settings.province)
        with tracer.start_as_current_span("register student", attributes={ATTR_STUDENT_ID: student.id}):
            uow.session.add_all([student, history])
            uow.emit(StudentRegistered(student=summary_of(student, school.name)), subject=student.id)
            try:
                await uow.commit()
            except IntegrityError as exc:
                # A concurrent registration of the same ID won the race past the check above.
                if any(name in str(exc.orig) for name in (STUDENT_NUMBER_UNIQUE, STUDENT_ID_NUMBER_ACTIVE)):
                    raise already_registered() from None
                raise
    response.headers["Location"] = f"/api/v1/students/{student.id}"
    return view_of(student, school.name, klass, [history])


async def _class_of_school(
    session: AsyncSession, class_id: str, school_code: str
) -> tuple[SchoolClass, School] | None:
    found = (
        await session.execute(
            select(SchoolClass, School)
            .join(School, School.code == SchoolClass.school_code)
            .where(SchoolClass.id == class_id, SchoolClass.school_code == school_code)
        )
    ).first()
    return (found[0], found[1]) if found else None


async def _is_registered(session: AsyncSession, resident_id: ResidentId) -> bool:
    """查重 inside the province: the ID studies here, or its formal number is taken (a record
    released to another province keeps its number)."""
    found = await session.scalar(
        select(Student.id).where(
            or_(
                Student.student_number == formal_student_number(resident_id.number),
                (Student.id_number == resident_id.number)
                & Student.status.not_in([s.value for s in RELEASED_STATES]),
            )
        )
    )
    return found is not None


def _new_record(
    body: RegisterStudent, resident_id: ResidentId, klass: SchoolClass, school: School, *, province: str
) -> tuple[Student, StudentHistory]:
    student = Student(
        id=str(uuid7()),
        student_number=formal_student_number(resident_id.number),
        name=body.name,
        sex=resident_id.sex,  # sex and birth date come from the ID, never from the form
        birth_date=resident_id.birth_date,
        id_type=body.id_type,
        id_number=resident_id.number,
        province_code=school.province_code,
        city_code=school.city_code,
        county_code=school.county_code,
        school_code=school.code,
        class_id=klass.id,
        major_code=klass.major_code,
        grade=klass.grade,
        study_length=body.study_length,
        study_form=body.study_form,
        status=StudentState.IN_SCHOOL.value,
        frozen=False,
    )
    history = StudentHistory(
        student_id=student.id,
        at=datetime.now(UTC),
        province=province,
        action="registered",
        detail=f"注册学籍：{school.name} {klass.name}",
    )
    return student, history


@router.get(
    "/students/{student_id}",
    summary="One student record in the caller's jurisdiction",
    responses=_READ_RESPONSES,
)
async def get_student(
    student_id: Annotated[str, Path(max_length=40)], principal: CurrentPrincipal, ctx: Context
) -> StudentView:
    async with ctx.sessionmaker() as session:
        views = await student_views(
            session, Student.id == student_id, jurisdiction_filter(principal, STUDENT_ORG)
        )
    if not views:
        raise not_found(f"student {student_id}")
    return views[0]


@router.get("/students", summary="Student records in the caller's jurisdiction", responses=_READ_RESPONSES)
async def list_students(
    principal: CurrentPrincipal,
    ctx: Context,
    student_number: Annotated[str | None, Query(max_length=40, description="学籍号")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> StudentList:
    conditions = [jurisdiction_filter(principal, STUDENT_ORG)]
    if student_number is not None:
        conditions.append(Student.student_number == student_number)
    async with ctx.sessionmaker() as session:
        views = await student_views(session, *conditions, limit=limit, offset=offset)
    return StudentList(items=views)
