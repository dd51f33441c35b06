"""Internship placements (实习备案): the school files company, address, position and period for
one student or a list of them. A check-in from outside the campus while a placement covers the
day is 正在实习, not 不在校区 (seed 000) — the accept path reads these rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin.api.common import PROBLEM, READERS
from services.checkin.models import Internship, StudentView
from services.checkin.round_lists import counted, visible
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.problems import conflict, field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["internships"])
FILERS = (Role.SCHOOL_REGISTRAR,)
MAX_STUDENTS = 500  # one class or a company's intake at a time
MAX_DAYS = 366
_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "Only the school registrar files placements", **PROBLEM},
    404: {"description": "No such placement in the caller's jurisdiction", **PROBLEM},
    409: {"description": "The student already has a placement in that period", **PROBLEM},
    422: {"description": "A field is invalid; the body names it", **PROBLEM},
}


class Placement(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    company: str = Field(min_length=2, max_length=200)
    address: str = Field(min_length=2, max_length=300)
    position: str | None = Field(None, max_length=100)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _period(self) -> Placement:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        if (self.ends_on - self.starts_on).days + 1 > MAX_DAYS:
            raise ValueError(f"a placement is filed for at most {MAX_DAYS} days; file the next one after")
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class FilePlacements(Placement):
    student_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        min_length=1, max_length=MAX_STUDENTS
    )


class PlacementChange(BaseModel):
    """Only the fields sent change; the period is checked as a whole afterwards."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    company: str | None = Field(None, min_length=2, max_length=200)
    address: str | None = Field(None, min_length=2, max_length=300)
    position: str | None = Field(None, max_length=100)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    starts_on: date | None = None
    ends_on: date | None = None


class InternshipView(BaseModel):
    id: UUID
    student_id: str
    student_name: str
    school_code: str
    company: str
    address: str
    position: str | None
    latitude: float | None
    longitude: float | None
    starts_on: date
    ends_on: date
    filed_by: str
    filed_at: datetime


class InternshipPage(BaseModel):
    total: int
    items: list[InternshipView]


def _view(row: Internship, name: str) -> InternshipView:
    return InternshipView(
        id=row.id,
        student_id=row.student_id,
        student_name=name,
        school_code=row.school_code,
        company=row.company,
        address=row.address,
        position=row.position,
        latitude=row.latitude,
        longitude=row.longitude,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        filed_by=row.filed_by,
        filed_at=row.filed_at,
    )


async def _overlapping(
    session: AsyncSession, student_ids: list[str], first: date, last: date, *, besides: UUID | None = None
) -> Internship | None:
    """One placement at a time per student: the accept path must not have to choose."""
    query = select(Internship).where(
        Internship.student_id.in_(student_ids), Internship.starts_on <= last, Internship.ends_on >= first
    )
    if besides is not None:
        query = query.where(Internship.id != besides)
    found: Internship | None = await session.scalar(query.limit(1))
    return found


@router.post(
    "/internships",
    status_code=201,
    summary="The school files a placement for one student or a list of students",
    responses=_RESPONSES,
)
async def file_placements(
    body: FilePlacements, principal: CurrentPrincipal, ctx: Context
) -> list[InternshipView]:
    require_role(principal, *FILERS)
    wanted = list(dict.fromkeys(body.student_ids))  # the same student twice is one placement
    async with ctx.uow() as uow:
        rows = (
            await uow.session.execute(
                visible(select(StudentView.student_id, StudentView.name), principal).where(
                    StudentView.student_id.in_(wanted)
                )
            )
        ).all()
        names = {student_id: name for student_id, name in rows}
        unknown = [i for i, student_id in enumerate(body.student_ids) if student_id not in names]
        if unknown:
            raise field_problem(
                f"student_ids.{unknown[0]}",
                f"student {body.student_ids[unknown[0]]} is not a student of your school",
                "不是本校学生",
            )
        # Placements of one student are filed one at a time (the school's own clicks); the lock
        # keeps two concurrent filings from both passing the overlap check.
        await uow.session.execute(
            select(StudentView.student_id).where(StudentView.student_id.in_(wanted)).with_for_update()
        )
        clash = await _overlapping(uow.session, wanted, body.starts_on, body.ends_on)
        if clash is not None:
            raise conflict(
                f"student {clash.student_id} already has a placement at {clash.company} "
                f"({clash.starts_on}–{clash.ends_on})",
                slug="internship-overlap",
            )
        now = datetime.now(UTC)
        filed = [
            Internship(
                student_id=student_id,
                school_code=principal.org,
                company=body.company,
                address=body.address,
                position=body.position,
                latitude=body.latitude,
                longitude=body.longitude,
                starts_on=body.starts_on,
                ends_on=body.ends_on,
                filed_by=principal.account_id,
                filed_at=now,
            )
            for student_id in wanted
        ]
        uow.session.add_all(filed)
        await uow.commit()
    return [_view(row, names[row.student_id]) for row in filed]


def _in_jurisdiction(principal: Principal) -> Any:
    return visible(
        select(Internship, StudentView.name).join(
            StudentView, StudentView.student_id == Internship.student_id
        ),
        principal,
    )


@router.get("/internships", summary="Placements in the caller's jurisdiction", responses=_RESPONSES)
async def list_placements(
    principal: CurrentPrincipal,
    ctx: Context,
    student_id: Annotated[str | None, Query(max_length=40)] = None,
    active_on: Annotated[date | None, Query(description="only placements covering this day")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> InternshipPage:
    require_role(principal, *READERS)
    query = _in_jurisdiction(principal)
    if student_id is not None:
        query = query.where(Internship.student_id == student_id)
    if active_on is not None:
        query = query.where(Internship.starts_on <= active_on, Internship.ends_on >= active_on)
    async with ctx.sessionmaker() as session:
        total = await session.scalar(counted(query)) or 0
        rows = (
            await session.execute(
                query.order_by(Internship.starts_on.desc(), Internship.id).limit(limit).offset(offset)
            )
        ).all()
    return InternshipPage(total=total, items=[_view(row, name) for row, name in rows])


async def _placement_of(
    session: AsyncSession, principal: Principal, internship_id: UUID
) -> tuple[Internship, str]:
    row = (await session.execute(_in_jurisdiction(principal).where(Internship.id == internship_id))).first()
    if row is None:
        raise not_found(f"internship {internship_id}")
    return row[0], row[1]


def _merged(row: Internship, change: PlacementChange) -> Placement:
    """The placement as it would read after the change, checked like a new filing."""
    current = {key: getattr(row, key) for key in Placement.model_fields}
    try:
        return Placement.model_validate({**current, **change.model_dump(exclude_unset=True)})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or "(body)"
        raise field_problem(field, str(error["msg"]), "修改后的实习信息不正确") from exc


@router.patch("/internships/{internship_id}", summary="Correct a placement", responses=_RESPONSES)
async def change_placement(
    internship_id: UUID, body: PlacementChange, principal: CurrentPrincipal, ctx: Context
) -> InternshipView:
    require_role(principal, *FILERS)
    async with ctx.uow() as uow:
        row, name = await _placement_of(uow.session, principal, internship_id)
        await uow.session.execute(
            select(StudentView.student_id).where(StudentView.student_id == row.student_id).with_for_update()
        )
        merged = _merged(row, body)
        clash = await _overlapping(
            uow.session, [row.student_id], merged.starts_on, merged.ends_on, besides=row.id
        )
        if clash is not None:
            raise conflict(
                f"the student already has a placement at {clash.company} ({clash.starts_on}–{clash.ends_on})",
                slug="internship-overlap",
            )
        for key, value in merged.model_dump().items():
            setattr(row, key, value)
        await uow.commit()
    return _view(row, name)


@router.delete(
    "/internships/{internship_id}",
    status_code=204,
    summary="Withdraw a placement (filed by mistake, or the student left the company)",
    responses=_RESPONSES,
)
async def withdraw_placement(internship_id: UUID, principal: CurrentPrincipal, ctx: Context) -> Response:
    require_role(principal, *FILERS)
    async with ctx.uow() as uow:
        row, _ = await _placement_of(uow.session, principal, internship_id)
        await uow.session.execute(delete(Internship).where(Internship.id == row.id))
        await uow.commit()
    return Response(status_code=204)
