"""Rounds (issue 5, item 1; DOMAIN.md "Registration rounds and routine verification"; seed 000
"设置电子学籍注册时间段"; seed 001 三.4):

- the province sets each term's registration round (name, year, season, start, end, grades);
- the province, a city or county bureau or a school registrar publishes an ad-hoc verification
  round (点名核验) for its own jurisdiction — itself or a part of it, never a neighbour's;
- everybody sees the rounds that concern them: a bureau the rounds published above it and
  inside it, a school the rounds that call its students, a student the rounds that call them,
  with their own standing in each.

Rounds open and close by themselves (round_clock.py); creating one only schedules it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, and_, false, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin.api.common import PROBLEM
from services.checkin.domain.eligibility import Candidate, RoundScope, eligibility
from services.checkin.domain.face_policy import EVERY
from services.checkin.domain.terms import Season, term_name, term_of
from services.checkin.models import Miss, Round, RoundAttendance, StudentView
from services.checkin.round_lists import granted_leave_overlapping, round_days
from shared.auth import SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.china_time import CHINA
from shared.problems import conflict, field_problem, forbidden, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["rounds"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "The caller may not publish this round", **PROBLEM},
    422: {"description": "A field is invalid; the body names it", **PROBLEM},
}
PUBLISHERS = (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR)
SCOPE_BY_LENGTH = {2: "province", 4: "city", 6: "county", 10: "school"}
# Grades are entry years (年级, seed 000 "2020-2022"); five-year programmes (五年一贯制) keep a
# class for five years, so a round calls at most the last six intakes.
OLDEST_GRADE_YEARS = 6
MAX_GRADES = 12
FacePolicy = Literal["every", "sampled"]


class FaceFields(BaseModel):
    face_policy: FacePolicy = Field(
        "every",
        description='"every" check-in\'s face is checked, or a "sampled" fraction plus every suspicious one',
    )
    face_sample_rate: float | None = Field(
        None,
        gt=0,
        le=1,
        description='with "sampled": the fraction of ordinary check-ins whose face is checked',
    )


class RegistrationRoundIn(FaceFields):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["2026年秋季电子学籍注册"])
    year: int = Field(ge=2000, le=2100, description="学籍注册年度")
    season: Season = Field(description="学籍注册季节: spring (春季) or autumn (秋季)")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    grades: list[int] = Field(
        min_length=1, max_length=MAX_GRADES, description="entry years called, e.g. 2024"
    )


class VerificationRoundIn(FaceFields):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, examples=["2026年11月点名核验"])
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    grades: list[int] = Field(
        default_factory=list, max_length=MAX_GRADES, description="entry years called; empty: every grade"
    )
    scope_code: str | None = Field(
        None,
        pattern=r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{10})$",
        description="the caller's own organisation (default) or a city, county or school inside it",
    )


class MyStanding(BaseModel):
    """A student's own standing in a round."""

    eligibility: str
    eligibility_text: str
    result: str | None = Field(description="normal | internship | off_campus | suspected_cheating | null")
    missed: bool
    excused: bool


class RoundOut(BaseModel):
    id: uuid.UUID
    kind: str
    name: str
    term: str
    scope_level: str
    scope_code: str
    grades: list[int]
    starts_at: datetime
    ends_at: datetime
    state: str
    face_policy: str
    face_sample_rate: float
    opened_at: datetime | None
    closing_notified_at: datetime | None
    closed_at: datetime | None
    created_at: datetime | None
    mine: MyStanding | None = Field(None, description="students only: their standing in the round")


def round_out(row: Round, mine: MyStanding | None = None) -> RoundOut:
    return RoundOut(
        id=row.id,
        kind=row.kind,
        name=row.name,
        term=row.term,
        scope_level=row.scope_level,
        scope_code=row.scope_code,
        grades=list(row.grades or ()),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        state=row.state,
        face_policy=row.face_policy,
        face_sample_rate=row.face_sample_rate,
        opened_at=row.opened_at,
        closing_notified_at=row.closing_notified_at,
        closed_at=row.closed_at,
        created_at=row.created_at,
        mine=mine,
    )


# --- validation -------------------------------------------------------------------------------


def check_window(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise field_problem("ends_at", "must be after starts_at", "截止时间须晚于开始时间")
    if ends_at <= now:
        raise field_problem("ends_at", "is already past", "截止时间已过")


def check_grades(grades: list[int], term: str) -> None:
    """Entry years a round of ``term`` can call: no intake after the term began (a spring term's
    newest intake is the previous autumn's) and none older than ``OLDEST_GRADE_YEARS``."""
    year, season = term.split("-")
    newest = int(year) if season == "autumn" else int(year) - 1
    if len(set(grades)) != len(grades):
        raise field_problem("grades", "lists a grade twice", "年级重复")
    for grade in grades:
        if not newest - OLDEST_GRADE_YEARS < grade <= newest:
            raise field_problem(
                "grades",
                f"{grade} is not a grade in school in {term} "
                f"(entry years {newest - OLDEST_GRADE_YEARS + 1}–{newest})",
                f"{grade} 级不是 {term} 学期的在校年级",
            )


def face_rate(body: FaceFields) -> float:
    if body.face_policy == EVERY:
        if body.face_sample_rate not in (None, 1.0):
            raise field_problem(
                "face_sample_rate", 'only a "sampled" policy takes a rate', "仅抽样核验需要设置抽样比例"
            )
        return 1.0
    if body.face_sample_rate is None:
        raise field_problem("face_sample_rate", 'a "sampled" policy needs a rate', "抽样核验须设置抽样比例")
    return body.face_sample_rate


async def school_lineage(session: AsyncSession, school_code: str) -> tuple[str, str] | None:
    """(city, county) of a school, as the student read model knows it (check-in keeps no org
    tree of its own; a school without students calls nobody anyway)."""
    row = (
        await session.execute(
            select(StudentView.city_code, StudentView.county_code)
            .where(StudentView.school_code == school_code)
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def round_scope(
    session: AsyncSession, principal: Principal, scope_code: str | None
) -> dict[str, str | None]:
    """The scope and lineage columns of a verification round the caller publishes; refuses a
    scope outside the caller's jurisdiction (403) or a school nobody knows (422)."""
    require_role(principal, *PUBLISHERS)
    code = scope_code or principal.org
    level = SCOPE_BY_LENGTH[len(code)]
    lineage: dict[str, str | None] = {
        "province_code": principal.province,
        "city_code": None,
        "county_code": None,
        "school_code": None,
    }
    if principal.role is Role.SCHOOL_REGISTRAR:
        if code != principal.org:
            raise forbidden("a school publishes rounds for its own school only")
    elif level == "school":
        known = await school_lineage(session, code)
        if known is None:
            raise field_problem("scope_code", "no student of this school is known", "未找到该学校的学生")
        inside = {
            Role.PROVINCE: True,
            Role.CITY: known[0] == principal.org,
            Role.COUNTY: known[1] == principal.org,
        }[principal.role]
        if not inside:
            raise forbidden(f"school {code} is outside your jurisdiction")
    elif not code.startswith(principal.org) or len(code) < len(principal.org):
        # GB/T 2260 codes nest: a county's code starts with its city's, a city's with its province's.
        raise forbidden(f"{code} is outside your jurisdiction {principal.org}")
    if level == "school":
        known = await school_lineage(session, code)
        lineage["school_code"] = code
        if known is not None:
            lineage["city_code"], lineage["county_code"] = known
    else:
        if level in ("city", "county"):
            lineage["city_code"] = code[:4]
        if level == "county":
            lineage["county_code"] = code
    return {"scope_level": level, "scope_code": code, **lineage}


async def _insert(ctx: Context, values: dict[str, Any]) -> Round:
    async with ctx.sessionmaker() as session:
        row = Round(id=uuid.uuid4(), state="scheduled", **values)
        session.add(row)
        try:
            await session.commit()
        except IntegrityError as exc:
            raise conflict(
                f"the registration round of {values['term']} exists already", slug="round-exists"
            ) from exc
        await session.refresh(row)
        return row


# --- publishing -------------------------------------------------------------------------------


@router.post(
    "/rounds/registration",
    status_code=status.HTTP_201_CREATED,
    responses={**_RESPONSES, 409: {"description": "The term has its registration round", **PROBLEM}},
    summary="The province sets a term's registration round (电子学籍注册时间段)",
)
async def create_registration_round(
    body: RegistrationRoundIn, principal: CurrentPrincipal, ctx: Context
) -> RoundOut:
    require_role(principal, Role.PROVINCE)
    term = term_name(body.year, body.season)
    check_window(body.starts_at, body.ends_at, datetime.now(UTC))
    if term_of(body.starts_at.astimezone(CHINA).date()) != term:
        raise field_problem(
            "starts_at",
            f"does not fall in the {term} term",
            f"开始时间不在 {body.year} 年{_SEASON_ZH[body.season]}学期内",
        )
    check_grades(body.grades, term)
    row = await _insert(
        ctx,
        {
            "kind": "registration",
            "name": body.name,
            "term": term,
            "starts_at": body.starts_at,
            "ends_at": body.ends_at,
            "grades": sorted(body.grades),
            "scope_level": "province",
            "scope_code": principal.province,
            "province_code": principal.province,
            "city_code": None,
            "county_code": None,
            "school_code": None,
            "face_policy": body.face_policy,
            "face_sample_rate": face_rate(body),
            "created_by": principal.account_id,
        },
    )
    return round_out(row)


_SEASON_ZH = {"spring": "春季", "autumn": "秋季"}


@router.post(
    "/rounds",
    status_code=status.HTTP_201_CREATED,
    responses=_RESPONSES,
    summary="Publish an ad-hoc verification round (点名核验) for your own jurisdiction",
)
async def create_verification_round(
    body: VerificationRoundIn, principal: CurrentPrincipal, ctx: Context
) -> RoundOut:
    require_role(principal, *PUBLISHERS)
    check_window(body.starts_at, body.ends_at, datetime.now(UTC))
    term = term_of(body.starts_at.astimezone(CHINA).date())
    if term_of(body.ends_at.astimezone(CHINA).date()) != term:
        raise field_problem("ends_at", f"falls after the {term} term", "核验须在一个学期内结束")
    check_grades(body.grades, term)
    rate = face_rate(body)
    async with ctx.sessionmaker() as session:
        scope = await round_scope(session, principal, body.scope_code)
    row = await _insert(
        ctx,
        {
            "kind": "verification",
            "name": body.name,
            "term": term,
            "starts_at": body.starts_at,
            "ends_at": body.ends_at,
            "grades": sorted(body.grades),
            **scope,
            "face_policy": body.face_policy,
            "face_sample_rate": rate,
            "created_by": principal.account_id,
        },
    )
    return round_out(row)


# --- reading ----------------------------------------------------------------------------------


def _concerns(province: str, city: str | None, county: str | None, school: str | None) -> ColumnElement[bool]:
    """Rounds whose scope contains this place: published by it or by a level above it."""
    places = [and_(Round.scope_level == "province", Round.scope_code == province)]
    if city:
        places.append(and_(Round.scope_level == "city", Round.scope_code == city))
    if county:
        places.append(and_(Round.scope_level == "county", Round.scope_code == county))
    if school:
        places.append(and_(Round.scope_level == "school", Round.scope_code == school))
    return or_(*places)


async def visible_rounds(
    session: AsyncSession, principal: Principal
) -> tuple[ColumnElement[bool], StudentView | None]:
    """The rounds the caller may see, as a filter; for a student also their read-model row."""
    role, org = principal.role, principal.org
    if role is Role.PROVINCE:
        return Round.province_code == org, None
    if role is Role.CITY:
        return or_(_concerns(principal.province, org, None, None), Round.city_code == org), None
    if role is Role.COUNTY:
        return or_(_concerns(principal.province, org[:4], org, None), Round.county_code == org), None
    if role in SCHOOL_ROLES or role is Role.COUNSELOR:
        known = await school_lineage(session, org)
        city, county = known if known is not None else (None, None)
        return _concerns(principal.province, city, county, org), None
    if role is Role.STUDENT and principal.student_id is not None:
        student = await session.get(StudentView, principal.student_id)
        if student is None:
            return false(), None
        grade_in_scope = or_(
            func.cardinality(Round.grades) == 0, literal(student.grade) == func.any(Round.grades)
        )
        scope = _concerns(student.province_code, student.city_code, student.county_code, student.school_code)
        return and_(scope, grade_in_scope), student
    return false(), None


async def standing(session: AsyncSession, row: Round, student: StudentView) -> MyStanding:
    first, last = round_days(row)
    on_leave = bool(
        await session.scalar(
            select(granted_leave_overlapping(StudentView.student_id, first, last)).where(
                StudentView.student_id == student.student_id
            )
        )
    )
    verdict = eligibility(RoundScope.of(row), Candidate.of(student), on_leave)
    result = await session.scalar(
        select(RoundAttendance.result).where(
            RoundAttendance.round_id == row.id, RoundAttendance.student_id == student.student_id
        )
    )
    miss = await session.get(Miss, (row.id, student.student_id))
    return MyStanding(
        eligibility=verdict.value,
        eligibility_text=verdict.text,
        result=result,
        missed=miss is not None,
        excused=bool(miss is not None and miss.excused),
    )


@router.get(
    "/rounds", responses=_RESPONSES, summary="Rounds that concern you (a student: with your standing)"
)
async def list_rounds(
    principal: CurrentPrincipal,
    ctx: Context,
    term: Annotated[str | None, Query(pattern=r"^[0-9]{4}-(spring|autumn)$")] = None,
    state: Annotated[Literal["scheduled", "open", "closed"] | None, Query()] = None,
    kind: Annotated[Literal["registration", "verification"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RoundOut]:
    async with ctx.sessionmaker() as session:
        seen, student = await visible_rounds(session, principal)
        query = select(Round).where(seen)
        if term is not None:
            query = query.where(Round.term == term)
        if state is not None:
            query = query.where(Round.state == state)
        if kind is not None:
            query = query.where(Round.kind == kind)
        rows = list(
            await session.scalars(
                query.order_by(Round.starts_at.desc(), Round.id).limit(limit).offset(offset)
            )
        )
        if student is None:
            return [round_out(row) for row in rows]
        return [round_out(row, await standing(session, row, student)) for row in rows]


@router.get(
    "/rounds/{round_id}",
    responses={**_RESPONSES, 404: {"description": "No such round in your jurisdiction", **PROBLEM}},
    summary="One round (a student: with their standing)",
)
async def get_round(round_id: uuid.UUID, principal: CurrentPrincipal, ctx: Context) -> RoundOut:
    async with ctx.sessionmaker() as session:
        seen, student = await visible_rounds(session, principal)
        row = await session.scalar(select(Round).where(Round.id == round_id, seen))
        if row is None:
            raise not_found(f"round {round_id}")
        return round_out(row, None if student is None else await standing(session, row, student))
