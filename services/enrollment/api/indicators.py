"""Negative-list indicators per school (负面清单, DOMAIN.md "Oversight"; seed 004 第六章) for the
bureaus above it, and the upload of the national system's counts that FM5 compares against.

Each measure is one grouped query over the schools in the caller's jurisdiction; the verdicts
are the pure rules of ``domain/negative_list.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment import audit
from services.enrollment.domain.negative_list import (
    ON_ROLL_STATES,
    Indicators,
    fm2_unfiled_enrolment,
    fm3_duplicate_records,
    fm5_national_mismatch,
    fm8_no_effective_enrolment,
    forced_rating,
)
from services.enrollment.domain.problem_record_state import ProblemKind, ProblemRecordState
from services.enrollment.domain.student_state import StudentState
from services.enrollment.in_school_snapshots import last_two_snapshots
from services.enrollment.models import School, SchoolMajor, Student
from services.enrollment.models.indicators import NationalCount
from services.enrollment.models.problems import ProblemRecord
from shared.auth import CurrentPrincipal, Role, require_role
from shared.china_time import today_in_china
from shared.jurisdiction import OrgColumns, jurisdiction_filter
from shared.problems import FieldIssue, Problem
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["indicators"])
BUREAUS = (Role.COUNTY, Role.CITY, Role.PROVINCE)
SCHOOL_ORG = OrgColumns(
    province=School.province_code, city=School.city_code, county=School.county_code, school=School.code
)
# Who counts as "in school" (在校生): on the roll, whether present, on leave or suspended.
ON_ROLL = [s.value for s in ON_ROLL_STATES]
# Records that never were an enrolment: a deleted duplicate (注销) does not count as a new student.
NOT_ENROLMENTS = [StudentState.DEREGISTERED.value]

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "Only bureaus see indicators; only the province uploads counts", **_PROBLEM},
    422: {"description": "A field is invalid; the body names it", **_PROBLEM},
}


class Fm2(BaseModel):
    broken: bool
    students_without_qualification: int


class Fm3(BaseModel):
    broken: bool
    open_duplicate_records: int


class Fm5(BaseModel):
    broken: bool | None = Field(description="null: no national count uploaded yet")
    provincial_count: int
    national_count: int | None


class Fm8(BaseModel):
    broken: bool
    new_students: dict[int, int] = Field(description="intake year → new students")
    in_school: int = Field(description="on the roll today (not what FM8 judges: see the snapshots)")
    in_school_snapshots: dict[int, int] = Field(
        description="year → in-school count of the last two yearly snapshots (taken on 20 Dec), "
        "which FM8's 'fewer than 240 two years running' is judged on"
    )


class SchoolIndicators(BaseModel):
    school: str
    school_name: str
    fm2: Fm2
    fm3: Fm3
    fm5: Fm5
    fm8: Fm8
    broken: list[str]
    rating: str | None = Field(description='"D" when any item is broken; A–C come from the yearly rating')


class NationalCountRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    school: str = Field(pattern=r"^[0-9]{10}$")
    count: int = Field(ge=0, le=1_000_000)

    @field_validator("count", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("count must be a number of students, not a boolean")
        return value


class NationalCountUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    counts: list[NationalCountRow] = Field(min_length=1, max_length=20_000)


class UploadResult(BaseModel):
    stored: int


def last_two_intakes(today: date) -> tuple[int, int]:
    """Autumn intake (DOMAIN.md "Enrollment"): before September the latest intake is last year's."""
    latest = today.year if today.month >= 9 else today.year - 1
    return latest, latest - 1


async def _counts(session: AsyncSession, column: Any, *conditions: ColumnElement[bool]) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).where(*conditions).group_by(column))
    return {code: n for code, n in rows.tuples()}


@router.get(
    "/indicators", summary="Negative-list indicators (FM2, FM3, FM5, FM8) per school", responses=_RESPONSES
)
async def school_indicators(
    principal: CurrentPrincipal,
    ctx: Context,
    school: Annotated[str | None, Query(pattern=r"^[0-9]{10}$", description="one school")] = None,
    year: Annotated[
        int | None, Query(ge=2000, le=2200, description="latest intake year (default: current)")
    ] = None,
) -> list[SchoolIndicators]:
    require_role(principal, *BUREAUS)
    latest, previous = (year, year - 1) if year else last_two_intakes(today_in_china())
    scope = [jurisdiction_filter(principal, SCHOOL_ORG)]
    if school is not None:
        scope.append(School.code == school)
    async with ctx.sessionmaker() as session:
        schools = (
            await session.execute(select(School.code, School.name).where(*scope).order_by(School.code))
        ).all()
        codes = [code for code, _ in schools]
        in_schools = Student.school_code.in_(codes)
        unfiled = await _counts(
            session,
            Student.school_code,
            in_schools,
            Student.status.in_(ON_ROLL),
            ~exists().where(
                and_(
                    SchoolMajor.school_code == Student.school_code,
                    SchoolMajor.major_code == Student.major_code,
                    SchoolMajor.year == Student.grade,
                )
            ),
        )
        duplicates = await _counts(
            session,
            ProblemRecord.school_code,
            ProblemRecord.school_code.in_(codes),
            ProblemRecord.kind == ProblemKind.DUPLICATE_ID.value,
            ProblemRecord.status != ProblemRecordState.RESOLVED.value,
        )
        on_roll = await _counts(session, Student.school_code, in_schools, Student.status.in_(ON_ROLL))
        intake = {
            y: await _counts(
                session,
                Student.school_code,
                in_schools,
                Student.grade == y,
                Student.status.not_in(NOT_ENROLMENTS),
            )
            for y in (latest, previous)
        }
        snapshots = await last_two_snapshots(session, codes)
        national = {
            code: n
            for code, n in (
                await session.execute(
                    select(NationalCount.school_code, NationalCount.count).where(
                        NationalCount.school_code.in_(codes)
                    )
                )
            ).tuples()
        }
    result = []
    for code, name in schools:
        in_school = on_roll.get(code, 0)
        new = (intake[latest].get(code, 0), intake[previous].get(code, 0))
        indicators = Indicators(
            fm2=fm2_unfiled_enrolment(unfiled.get(code, 0)),
            fm3=fm3_duplicate_records(duplicates.get(code, 0)),
            fm5=fm5_national_mismatch(in_school, national.get(code)),
            fm8=fm8_no_effective_enrolment(new, list(snapshots.get(code, {}).values())),
        )
        result.append(
            SchoolIndicators(
                school=code,
                school_name=name,
                fm2=Fm2(broken=indicators.fm2, students_without_qualification=unfiled.get(code, 0)),
                fm3=Fm3(broken=indicators.fm3, open_duplicate_records=duplicates.get(code, 0)),
                fm5=Fm5(broken=indicators.fm5, provincial_count=in_school, national_count=national.get(code)),
                fm8=Fm8(
                    broken=indicators.fm8,
                    new_students={latest: new[0], previous: new[1]},
                    in_school=in_school,
                    in_school_snapshots=snapshots.get(code, {}),
                ),
                broken=indicators.broken,
                rating=forced_rating(indicators),
            )
        )
    return result


@router.put(
    "/indicators/national-counts",
    summary="Upload the national student system's count per school (for FM5)",
    responses=_RESPONSES,
)
async def upload_national_counts(
    body: NationalCountUpload, principal: CurrentPrincipal, ctx: Context
) -> UploadResult:
    require_role(principal, Role.PROVINCE)
    wanted = [row.school for row in body.counts]
    async with ctx.uow() as uow:
        known = set(
            await uow.session.scalars(
                select(School.code).where(School.code.in_(wanted), jurisdiction_filter(principal, SCHOOL_ORG))
            )
        )
        issues = [
            FieldIssue(f"counts.{i}.school", f"no school {row.school} in this province", "本省没有该学校")
            for i, row in enumerate(body.counts)
            if row.school not in known
        ]
        if len(set(wanted)) != len(wanted):
            issues.append(FieldIssue("counts", "a school appears twice", "同一学校出现多次"))
        if issues:
            raise Problem(
                422,
                "Invalid field",
                slug="invalid-field",
                detail="; ".join(i.reason for i in issues),
                errors=issues,
            )
        statement = insert(NationalCount).values(
            [
                {"school_code": r.school, "count": r.count, "uploaded_by": principal.account_id}
                for r in body.counts
            ]
        )
        await uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=[NationalCount.school_code],
                set_={
                    "count": statement.excluded.count,
                    "uploaded_by": statement.excluded.uploaded_by,
                    "uploaded_at": func.now(),
                },
            )
        )
        await audit.record(
            uow.session,
            principal,
            action="indicators.national_counts.uploaded",
            subject_type="national_count",
            subject_id=principal.province,
            place=audit.Place(principal.province),
            detail=f"上传全国学生系统学生数：{len(body.counts)} 所学校",
            data={"schools": len(body.counts)},
        )
        await uow.commit()
    return UploadResult(stored=len(body.counts))
