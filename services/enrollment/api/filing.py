"""Filing (备案) of a school's intake with the province (DOMAIN.md "Enrollment"; seed 004 art.
6–8): each unfiled student of the intake whose school + major is qualified for the intake year
is filed; the others are listed with the reason. After 20 Dec (autumn) or 20 May (spring)
nothing more is filed for that intake, unless the province's supplementary registration window
(补注册) for the intake covers the school today: it reopens filing until it ends."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from uuid6 import uuid7

from services.enrollment.api.reviews import RESPONSES
from services.enrollment.domain.filing import (
    Intake,
    filing_deadline,
    is_filing_open,
    may_file,
    registration_deadline,
    season_of_registration,
)
from services.enrollment.domain.registration_window import is_filing_reopened
from services.enrollment.domain.student_state import RELEASED_STATES
from services.enrollment.models import School, SchoolMajor, Student
from services.enrollment.models.changes import FILING_ORG, Filing, StudentFiling
from services.enrollment.registration_windows import open_windows, place_of
from shared.auth import CurrentPrincipal, Role, require_role
from shared.china_time import CHINA
from shared.events.common import Lineage
from shared.events.enrollment import IntakeFiled
from shared.jurisdiction import jurisdiction_filter
from shared.problems import Problem, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["filing"])


class FilingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    intake_year: int = Field(ge=2000, le=2100, strict=True)
    season: Literal["autumn", "spring"]


class RefusedLine(BaseModel):
    student_id: str
    name: str
    reason: str


class FilingView(BaseModel):
    id: str
    school_code: str
    intake_year: int
    season: str
    filed_count: int
    refused: list[RefusedLine]
    filed_by: str
    filed_at: datetime


def _view(row: Filing) -> FilingView:
    return FilingView(
        id=row.id,
        school_code=row.school_code,
        intake_year=row.intake_year,
        season=row.season,
        filed_count=row.filed_count,
        refused=[RefusedLine(**r) for r in row.refused],
        filed_by=row.filed_by,
        filed_at=row.filed_at,
    )


@router.post(
    "/filings", status_code=201, summary="File the school's intake with the province", responses=RESPONSES
)
async def file_intake(body: FilingBody, principal: CurrentPrincipal, ctx: Context) -> FilingView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    intake = Intake(body.intake_year, body.season)
    on = ctx.today()
    async with ctx.uow() as uow:
        school = await uow.session.get(School, principal.org)
        if school is None:
            raise not_found(f"school {principal.org}")
        reopened = not is_filing_open(intake, on) and is_filing_reopened(
            intake, place_of(school), on, await open_windows(uow.session, intake, school.province_code)
        )
        closed = may_file(qualified=True, intake=intake, today=on, reopened=reopened)
        if closed is not None:
            en, zh = closed
            raise Problem(409, "Filing closed", title_zh=zh, slug="filing-closed", detail=en)
        # Locks the intake's unfiled students: two registrars filing at once file each student once.
        candidates = [
            s
            for s in await uow.session.scalars(
                select(Student)
                .outerjoin(StudentFiling, StudentFiling.student_id == Student.id)
                .where(
                    Student.school_code == school.code,
                    Student.grade == intake.year,
                    Student.status.not_in([s.value for s in RELEASED_STATES]),
                    StudentFiling.student_id.is_(None),
                )
                .order_by(Student.student_number)
                .with_for_update(of=Student)
            )
            if season_of_registration(s.created_at.astimezone(CHINA).date()) == intake.season
        ]
        if not candidates:
            raise field_problem("intake_year", "no unfiled students of this intake", "该批次没有待备案的学生")
        qualified = set(
            await uow.session.scalars(
                select(SchoolMajor.major_code).where(
                    SchoolMajor.school_code == school.code, SchoolMajor.year == intake.year
                )
            )
        )
        filing_id = str(uuid7())
        filed: list[str] = []
        refused: list[dict[str, Any]] = []
        for student in candidates:
            reason = may_file(
                qualified=student.major_code in qualified, intake=intake, today=on, reopened=reopened
            )
            if reason is None:
                filed.append(student.id)
            else:
                refused.append({"student_id": student.id, "name": student.name, "reason": reason[1]})
        row = Filing(
            id=filing_id,
            province_code=school.province_code,
            city_code=school.city_code,
            county_code=school.county_code,
            school_code=school.code,
            intake_year=intake.year,
            season=intake.season,
            filed_count=len(filed),
            refused=refused,
            filed_by=principal.username,
        )
        uow.session.add(row)
        await uow.session.flush()
        uow.session.add_all([StudentFiling(student_id=s, filing_id=filing_id) for s in filed])
        uow.emit(
            IntakeFiled(
                filing_id=filing_id,
                lineage=Lineage(
                    province=school.province_code,
                    city=school.city_code,
                    county=school.county_code,
                    school=school.code,
                ),
                intake_year=intake.year,
                season=intake.season,
                filed_student_ids=filed,
            ),
            subject=school.code,
        )
        await uow.commit()
    async with ctx.sessionmaker() as session:
        saved = await session.get(Filing, filing_id)
        assert saved is not None
        return _view(saved)


@router.get("/filings", summary="Filings in the caller's jurisdiction", responses=RESPONSES)
async def list_filings(
    principal: CurrentPrincipal,
    ctx: Context,
    intake_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[FilingView]:
    conditions = [jurisdiction_filter(principal, FILING_ORG)]
    if intake_year is not None:
        conditions.append(Filing.intake_year == intake_year)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(Filing).where(*conditions).order_by(Filing.filed_at.desc()).limit(200)
        )
        return [_view(r) for r in rows]


class IntakeDeadlines(BaseModel):
    intake_year: int
    season: str
    register_by: str
    file_by: str
    filing_open_today: bool


@router.get(
    "/filings/deadlines", summary="Registration and filing deadlines of an intake", responses=RESPONSES
)
async def intake_deadlines(
    principal: CurrentPrincipal,
    ctx: Context,
    intake_year: Annotated[int, Query(ge=2000, le=2100)],
    season: Annotated[Literal["autumn", "spring"], Query()],
) -> IntakeDeadlines:
    intake = Intake(intake_year, season)
    return IntakeDeadlines(
        intake_year=intake_year,
        season=season,
        register_by=registration_deadline(intake).isoformat(),
        file_by=filing_deadline(intake).isoformat(),
        filing_open_today=is_filing_open(intake, ctx.today()),
    )
