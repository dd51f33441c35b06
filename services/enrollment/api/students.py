"""Student records over HTTP: register one student (single entry), read records in jurisdiction."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError

from services.enrollment.dedupe import registered_here
from services.enrollment.domain.registration import (
    Candidate,
    IdType,
    RuleViolation,
    Sex,
    is_registrable_id_type,
    needs_identity_check,
    normalised_id_number,
    validate_registration,
)
from services.enrollment.domain.study_length import EntryRoute
from services.enrollment.models import STUDENT_ID_NUMBER_ACTIVE, STUDENT_NUMBER_UNIQUE, STUDENT_ORG, Student
from services.enrollment.records import StudentList, StudentView, student_views, view_of
from services.enrollment.registering import (
    class_and_offer,
    deps_of,
    identity_verdict,
    write_registration,
)
from services.enrollment.registration_windows import window_violation
from shared.auth import CurrentPrincipal, Role, require_role
from shared.china_time import today_in_china
from shared.events.common import StudyForm
from shared.jurisdiction import jurisdiction_filter
from shared.problems import FieldIssue, Problem, field_problem, not_found
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
    entry_route: EntryRoute = Field("junior_high_graduate", description="入学方式 (seed 004 art. 10)")
    major_code: str | None = Field(None, max_length=20, description="default: the class's major")
    sex: Sex | None = Field(None, description="required for non-resident IDs; checked against a resident ID")
    birth_date: date | None = Field(
        None, description="required for non-resident IDs; checked against a resident ID"
    )
    nationality: str | None = Field(
        None, max_length=3, description="国籍, ISO 3166-1 alpha-3; default CHN except for a passport"
    )
    ethnicity: str | None = Field(None, max_length=2, description="民族, GB/T 3304 code (01 汉族 …)")

    @field_validator("study_length", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        # pydantic's lax mode would read true as 1 year.
        if isinstance(value, bool):
            raise ValueError("study_length must be a number of years, not a boolean")
        return value

    def candidate(self) -> Candidate:
        return Candidate(
            name=self.name,
            id_type=self.id_type,
            id_number=self.id_number,
            study_length=self.study_length,
            study_form=self.study_form,
            entry_route=self.entry_route,
            sex=self.sex,
            birth_date=self.birth_date,
            major_code=self.major_code,
            nationality=self.nationality,
            ethnicity=self.ethnicity,
        )


def already_registered() -> Problem:
    # Says nothing about where the student is registered: the caller may not see that record.
    return Problem(
        409,
        "Already registered",
        title_zh="该证件号码已在本省注册学籍",
        slug="already-registered",
        detail="a student with this ID number is already registered in this province",
    )


def rule_problems(violations: list[RuleViolation]) -> Problem:
    """Every broken registration rule at once, each naming its field (RFC 9457, zh + en)."""
    return Problem(
        422,
        "Invalid field",
        slug="invalid-field",
        detail="; ".join(f"{v.field}: {v.reason_en}" for v in violations),
        errors=[FieldIssue(v.field, v.reason_en, v.reason_zh) for v in violations],
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
            "students without an ID are registered with guardian evidence through the no-ID "
            "registration, not here",
            "无证件学生须通过无证件学生登记（监护人证件及佐证材料）办理，不能在此注册",
        )
    deps = deps_of(ctx)
    # One session for the whole request (one pool checkout). The duplicate check comes first:
    # a registered ID is refused after a single indexed lookup, before any other work.
    async with ctx.uow() as uow:
        known_number = normalised_id_number(body.id_type, body.id_number)
        if known_number is not None and await registered_here(uow.session, [known_number]):
            raise already_registered()
        found = await class_and_offer(uow.session, body.class_id, principal.org, body.major_code)
        if found is None:
            raise field_problem("class_id", "no such class in your school", "本校没有该班级")
        klass, school, offer = found
        checked = validate_registration(body.candidate(), offer, today=today_in_china())
        # The intake's registration window (seed 004 art. 6, or the province's 补注册): reported
        # with the other broken rules, on class_id, since the class decides the intake.
        closed = await window_violation(uow.session, klass, school, ctx.today())
        if closed is not None:
            raise rule_problems([closed, *(checked if isinstance(checked, list) else [])])
        if isinstance(checked, list):
            raise rule_problems(checked)
        if deps.registry.remote and needs_identity_check(checked.id_type):
            # Only reads so far: end that transaction rather than keep it open while a remote
            # registry answers (up to its timeout); the unique index still guards the insert.
            # Detached first: a rollback would expire the class and school we still read.
            uow.session.expunge_all()
            await uow.session.rollback()
        verdict = await identity_verdict(deps.registry, checked)
        with tracer.start_as_current_span("register student") as span:
            student, history = await write_registration(
                uow, checked, klass=klass, school=school, verdict=verdict, deps=deps, source="单个新增"
            )
            span.set_attribute(ATTR_STUDENT_ID, student.id)
            try:
                await uow.commit()
            except IntegrityError as exc:
                # A concurrent registration of the same ID won the race past the check above.
                if any(name in str(exc.orig) for name in (STUDENT_NUMBER_UNIQUE, STUDENT_ID_NUMBER_ACTIVE)):
                    raise already_registered() from None
                raise
    response.headers["Location"] = f"/api/v1/students/{student.id}"
    return view_of(student, school.name, klass, [history])


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
