"""Organisation data over HTTP (DOMAIN.md "Organisation tree and roles"; seed 004 art. 6): the
province manages regions, its schools' registration, the majors catalogue and enrolment
qualifications; a school manages its campuses (with boundaries) and its grades and classes;
bureaus read what is in their jurisdiction. Every change publishes an event."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import distinct, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.domain.campus_boundary import boundary_problems
from services.enrollment.domain.region_code import InvalidRegionCode, level_of, parent_of, tree_code
from services.enrollment.models import Campus, Major, Region, School, SchoolClass, SchoolMajor
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import Lineage
from shared.events.enrollment import (
    CampusChanged,
    CampusRegistered,
    ClassRegistered,
    QualificationFiled,
    SchoolChanged,
    SchoolRegistered,
)
from shared.jurisdiction import OrgColumns, jurisdiction_filter
from shared.problems import Problem, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["organisation"])

SCHOOL_ORG = OrgColumns(
    province=School.province_code, city=School.city_code, county=School.county_code, school=School.code
)
_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **_PROBLEM},
    403: {"description": "The caller's role may not do this", **_PROBLEM},
    404: {"description": "Not inside the caller's jurisdiction", **_PROBLEM},
    409: {"description": "Already exists", **_PROBLEM},
    422: {"description": "A field is invalid; the body names it", **_PROBLEM},
}
_Name = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


async def _commit(uow: UnitOfWork) -> None:
    """A concurrent insert of the same code won the race past the existence check: 409, not 500."""
    try:
        await uow.commit()
    except IntegrityError:
        raise Problem(409, "Conflict", title_zh="数据已存在或已被他人修改", slug="already-exists") from None


def _exists(what: str) -> Problem:
    return Problem(409, "Conflict", title_zh=f"{what}已存在", slug="already-exists", detail=f"{what} exists")


# --- regions ------------------------------------------------------------------------------------


class RegionBody(_Body):
    code: str = Field(pattern=r"^[0-9]{2}(?:[0-9]{2}){0,2}$", description="GB/T 2260, e.g. 410102 or 410100")
    name: _Name


class RegionView(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None


@router.post("/regions", status_code=201, summary="Add a city or county (province)", responses=RESPONSES)
async def add_region(body: RegionBody, principal: CurrentPrincipal, ctx: Context) -> RegionView:
    require_role(principal, Role.PROVINCE)
    try:
        code = tree_code(body.code)
    except InvalidRegionCode as exc:
        raise field_problem("code", str(exc), "行政区划代码不符合 GB/T 2260") from None
    parent = parent_of(code)
    if parent is None or not code.startswith(principal.org):
        raise field_problem("code", "not a city or county of your province", "不是本省的地市或区县代码")
    async with ctx.uow() as uow:
        if await uow.session.get(Region, parent) is None:
            raise field_problem("code", f"its parent {parent} is not registered", f"上级区划 {parent} 不存在")
        if await uow.session.get(Region, code) is not None:
            raise _exists(f"region {code}")
        region = Region(code=code, name=body.name, level=level_of(code), parent_code=parent)
        uow.session.add(region)
        await _commit(uow)
    return RegionView(code=code, name=body.name, level=region.level, parent_code=parent)


@router.get("/regions", summary="The province's regions", responses=RESPONSES)
async def list_regions(principal: CurrentPrincipal, ctx: Context) -> list[RegionView]:
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(Region).where(Region.code.startswith(principal.province)).order_by(Region.code)
        )
        return [RegionView(code=r.code, name=r.name, level=r.level, parent_code=r.parent_code) for r in rows]


# --- schools ------------------------------------------------------------------------------------


class SchoolBody(_Body):
    code: str = Field(pattern=r"^[0-9]{10}$", description="学校标识码")
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
    type: str = Field(
        min_length=1, max_length=40, pattern=r"^[a-z_]+$", description="e.g. secondary_vocational"
    )
    county_code: str = Field(pattern=r"^[0-9]{6}$")
    stage: str = Field("secondary_vocational", min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    supervisor_code: str | None = Field(
        None, pattern=r"^[0-9]{2}(?:[0-9]{2}){0,2}$", description="主管部门 when not the county bureau"
    )


class SchoolPatch(_Body):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")] | None = None
    type: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    stage: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[a-z_]+$")
    supervisor_code: str | None = Field(None, pattern=r"^[0-9]{2}(?:[0-9]{2}){0,2}$")


class SchoolView(BaseModel):
    code: str
    name: str
    type: str
    stage: str
    supervisor_code: str | None
    lineage: Lineage


def _school_view(s: School) -> SchoolView:
    return SchoolView(
        code=s.code,
        name=s.name,
        type=s.type,
        stage=s.stage,
        supervisor_code=s.supervisor_code,
        lineage=Lineage(province=s.province_code, city=s.city_code, county=s.county_code, school=s.code),
    )


async def _check_supervisor(session: AsyncSession, code: str | None, principal: Principal) -> None:
    if code is not None and (not code.startswith(principal.org) or await session.get(Region, code) is None):
        raise field_problem("supervisor_code", "no such bureau in your province", "本省没有该主管部门")


@router.post("/schools", status_code=201, summary="Register a school (province)", responses=RESPONSES)
async def add_school(
    body: SchoolBody, principal: CurrentPrincipal, ctx: Context, response: Response
) -> SchoolView:
    require_role(principal, Role.PROVINCE)
    async with ctx.uow() as uow:
        county = await uow.session.get(Region, body.county_code)
        if county is None or county.level != "county" or not county.code.startswith(principal.org):
            raise field_problem("county_code", "no such county in your province", "本省没有该区县")
        await _check_supervisor(uow.session, body.supervisor_code, principal)
        if await uow.session.get(School, body.code) is not None:
            raise _exists(f"school {body.code}")
        school = School(
            code=body.code,
            name=body.name,
            type=body.type,
            stage=body.stage,
            supervisor_code=body.supervisor_code,
            province_code=body.county_code[:2],
            city_code=body.county_code[:4],
            county_code=body.county_code,
        )
        uow.session.add(school)
        view = _school_view(school)
        uow.emit(
            SchoolRegistered(lineage=view.lineage, name=school.name, school_type=school.type),
            subject=school.code,
        )
        await _commit(uow)
    response.headers["Location"] = f"/api/v1/schools/{body.code}"
    return view


@router.patch("/schools/{code}", summary="Change a school's data (province)", responses=RESPONSES)
async def change_school(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")],
    body: SchoolPatch,
    principal: CurrentPrincipal,
    ctx: Context,
) -> SchoolView:
    require_role(principal, Role.PROVINCE)
    async with ctx.uow() as uow:
        school = await uow.session.scalar(
            select(School)
            .where(School.code == code, jurisdiction_filter(principal, SCHOOL_ORG))
            .with_for_update()
        )
        if school is None:
            raise not_found(f"school {code}")
        await _check_supervisor(uow.session, body.supervisor_code, principal)
        for field, value in body.model_dump(exclude_unset=True).items():
            if value is None and field != "supervisor_code":
                raise field_problem(field, "cannot be empty", "不能为空")
            setattr(school, field, value)
        view = _school_view(school)
        uow.emit(
            SchoolChanged(
                lineage=view.lineage,
                name=school.name,
                school_type=school.type,
                stage=school.stage,
                supervisor_code=school.supervisor_code,
            ),
            subject=school.code,
        )
        await _commit(uow)
    return view


@router.get("/schools", summary="Schools in the caller's jurisdiction", responses=RESPONSES)
async def list_schools(
    principal: CurrentPrincipal,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[SchoolView]:
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(School)
            .where(jurisdiction_filter(principal, SCHOOL_ORG))
            .order_by(School.code)
            .limit(limit)
            .offset(offset)
        )
        return [_school_view(s) for s in rows]


async def _own_school(session: AsyncSession, principal: Principal, code: str, *, write: bool) -> School:
    """The school if the caller may see it; writing needs the school's own registrar."""
    if write:
        require_role(principal, Role.SCHOOL_REGISTRAR)
    school = await session.scalar(
        select(School).where(School.code == code, jurisdiction_filter(principal, SCHOOL_ORG))
    )
    if school is None:
        raise not_found(f"school {code}")
    return school


# --- campuses -----------------------------------------------------------------------------------


class CampusBody(_Body):
    name: _Name
    crs: Literal["WGS-84", "GCJ-02"] = Field(description="the datum the coordinates are given in")
    boundary: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon, longitude first")


class CampusView(CampusBody):
    id: str
    school_code: str


def _checked_boundary(body: CampusBody) -> None:
    problems = boundary_problems(body.boundary)
    if problems:
        raise field_problem("boundary", "; ".join(problems), "；".join(problems))


@router.post(
    "/schools/{code}/campuses", status_code=201, summary="Register a campus (school)", responses=RESPONSES
)
async def add_campus(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")],
    body: CampusBody,
    principal: CurrentPrincipal,
    ctx: Context,
) -> CampusView:
    _checked_boundary(body)
    async with ctx.uow() as uow:
        school = await _own_school(uow.session, principal, code, write=True)
        campus = Campus(
            id=str(uuid7()), school_code=school.code, name=body.name, crs=body.crs, boundary=body.boundary
        )
        uow.session.add(campus)
        uow.emit(
            CampusRegistered(
                campus_id=campus.id,
                school_code=school.code,
                name=body.name,
                crs=body.crs,
                boundary=body.boundary,
            ),
            subject=campus.id,
        )
        await _commit(uow)
    return CampusView(id=campus.id, school_code=school.code, **body.model_dump())


@router.put(
    "/schools/{code}/campuses/{campus_id}", summary="Change a campus or its boundary", responses=RESPONSES
)
async def change_campus(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")],
    campus_id: Annotated[str, Path(max_length=40)],
    body: CampusBody,
    principal: CurrentPrincipal,
    ctx: Context,
) -> CampusView:
    _checked_boundary(body)
    async with ctx.uow() as uow:
        school = await _own_school(uow.session, principal, code, write=True)
        campus = await uow.session.scalar(
            select(Campus).where(Campus.id == campus_id, Campus.school_code == school.code).with_for_update()
        )
        if campus is None:
            raise not_found(f"campus {campus_id}")
        campus.name, campus.crs, campus.boundary = body.name, body.crs, body.boundary
        uow.emit(
            CampusChanged(
                campus_id=campus.id,
                school_code=school.code,
                name=body.name,
                crs=body.crs,
                boundary=body.boundary,
            ),
            subject=campus.id,
        )
        await _commit(uow)
    return CampusView(id=campus_id, school_code=school.code, **body.model_dump())


@router.get("/schools/{code}/campuses", summary="A school's campuses", responses=RESPONSES)
async def list_campuses(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")], principal: CurrentPrincipal, ctx: Context
) -> list[CampusView]:
    async with ctx.sessionmaker() as session:
        school = await _own_school(session, principal, code, write=False)
        rows = await session.scalars(
            select(Campus).where(Campus.school_code == school.code).order_by(Campus.name)
        )
        return [
            CampusView(id=c.id, school_code=c.school_code, name=c.name, crs=c.crs, boundary=c.boundary)
            for c in rows
        ]


# --- majors catalogue and qualifications ---------------------------------------------------------


class MajorBody(_Body):
    code: str = Field(pattern=r"^[0-9]{6}$", description="中职专业目录 code, e.g. 710201")
    name: _Name


@router.post(
    "/majors", status_code=201, summary="Add a major to the catalogue (province)", responses=RESPONSES
)
async def add_major(body: MajorBody, principal: CurrentPrincipal, ctx: Context) -> MajorBody:
    require_role(principal, Role.PROVINCE)
    async with ctx.uow() as uow:
        if await uow.session.get(Major, body.code) is not None:
            raise _exists(f"major {body.code}")
        uow.session.add(Major(code=body.code, name=body.name))
        await _commit(uow)
    return body


@router.get("/majors", summary="The majors catalogue", responses=RESPONSES)
async def list_majors(principal: CurrentPrincipal, ctx: Context) -> list[MajorBody]:
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(select(Major).order_by(Major.code))
        return [MajorBody(code=m.code, name=m.name) for m in rows]


class QualificationBody(_Body):
    school_code: str = Field(pattern=r"^[0-9]{10}$")
    major_code: str = Field(pattern=r"^[0-9]{6}$")
    year: int = Field(ge=2000, le=2100, strict=True, description="intake year")


@router.post(
    "/qualifications",
    status_code=201,
    summary="File an enrolment qualification (招生资质, province)",
    responses=RESPONSES,
)
async def add_qualification(
    body: QualificationBody, principal: CurrentPrincipal, ctx: Context
) -> QualificationBody:
    require_role(principal, Role.PROVINCE)
    async with ctx.uow() as uow:
        school = await uow.session.scalar(
            select(School).where(School.code == body.school_code, jurisdiction_filter(principal, SCHOOL_ORG))
        )
        if school is None:
            raise field_problem("school_code", "no such school in your province", "本省没有该学校")
        if await uow.session.get(Major, body.major_code) is None:
            raise field_problem("major_code", "not in the majors catalogue", "专业目录中没有该专业")
        if await uow.session.get(SchoolMajor, (body.school_code, body.major_code, body.year)) is not None:
            raise _exists("qualification")
        uow.session.add(SchoolMajor(school_code=body.school_code, major_code=body.major_code, year=body.year))
        uow.emit(QualificationFiled(**body.model_dump()), subject=body.school_code)
        await _commit(uow)
    return body


@router.get("/qualifications", summary="Enrolment qualifications in jurisdiction", responses=RESPONSES)
async def list_qualifications(
    principal: CurrentPrincipal,
    ctx: Context,
    school_code: Annotated[str | None, Query(pattern=r"^[0-9]{10}$")] = None,
) -> list[QualificationBody]:
    conditions = [jurisdiction_filter(principal, SCHOOL_ORG)]
    if school_code:
        conditions.append(School.code == school_code)
    async with ctx.sessionmaker() as session:
        rows = await session.scalars(
            select(SchoolMajor)
            .join(School, School.code == SchoolMajor.school_code)
            .where(*conditions)
            .order_by(SchoolMajor.school_code, SchoolMajor.year, SchoolMajor.major_code)
        )
        return [
            QualificationBody(school_code=q.school_code, major_code=q.major_code, year=q.year) for q in rows
        ]


# --- grades and classes -------------------------------------------------------------------------


class ClassBody(_Body):
    name: _Name
    grade: int = Field(ge=2000, le=2100, strict=True, description="entry year (年级)")
    major_code: str = Field(pattern=r"^[0-9]{6}$")


class ClassView(ClassBody):
    id: str
    school_code: str


@router.post("/schools/{code}/classes", status_code=201, summary="Open a class (school)", responses=RESPONSES)
async def add_class(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")],
    body: ClassBody,
    principal: CurrentPrincipal,
    ctx: Context,
) -> ClassView:
    async with ctx.uow() as uow:
        school = await _own_school(uow.session, principal, code, write=True)
        # A class of a major the school may not enrol that year would hold students who can never
        # be filed (DOMAIN.md "Enrollment": a school + major not filed cannot be filed).
        if await uow.session.get(SchoolMajor, (school.code, body.major_code, body.grade)) is None:
            raise field_problem(
                "major_code",
                f"the school has no qualification for this major in {body.grade}",
                f"学校{body.grade}年无该专业招生资质",
            )
        klass = SchoolClass(
            id=str(uuid7()),
            school_code=school.code,
            name=body.name,
            grade=body.grade,
            major_code=body.major_code,
        )
        uow.session.add(klass)
        uow.emit(
            ClassRegistered(class_id=klass.id, school_code=school.code, **body.model_dump()), subject=klass.id
        )
        await _commit(uow)
    return ClassView(id=klass.id, school_code=school.code, **body.model_dump())


@router.get("/schools/{code}/classes", summary="A school's classes", responses=RESPONSES)
async def list_classes(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")],
    principal: CurrentPrincipal,
    ctx: Context,
    grade: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> list[ClassView]:
    async with ctx.sessionmaker() as session:
        school = await _own_school(session, principal, code, write=False)
        query = select(SchoolClass).where(SchoolClass.school_code == school.code)
        if grade is not None:
            query = query.where(SchoolClass.grade == grade)
        rows = await session.scalars(query.order_by(SchoolClass.grade, SchoolClass.name))
        return [
            ClassView(id=c.id, school_code=c.school_code, name=c.name, grade=c.grade, major_code=c.major_code)
            for c in rows
        ]


@router.get(
    "/schools/{code}/grades", summary="A school's grades (entry years with classes)", responses=RESPONSES
)
async def list_grades(
    code: Annotated[str, Path(pattern=r"^[0-9]{10}$")], principal: CurrentPrincipal, ctx: Context
) -> list[int]:
    async with ctx.sessionmaker() as session:
        school = await _own_school(session, principal, code, write=False)
        rows = await session.scalars(
            select(distinct(SchoolClass.grade))
            .where(SchoolClass.school_code == school.code)
            .order_by(SchoolClass.grade)
        )
        return list(rows)
