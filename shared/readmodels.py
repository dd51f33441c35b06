"""The student read model that services outside enrollment keep from enrollment's events.

Checkin and certificates both need "who is this student, where, in what status" locally
(DESIGN.md: state other services need travels as events and is kept in local read models).
One definition serves both: a mixin for the table, one upsert, one set of migration columns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy import Column, DateTime, Float, Integer, String, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.auth import CurrentPrincipal
from shared.bus.consumer import Subscriptions
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.common import StudentSummary
from shared.events.enrollment import (
    StudentKeyDataChanged,
    StudentMovedWithinProvince,
    StudentRegistered,
    StudentStatusChanged,
    StudentTransferredIn,
    StudentTransferredOut,
)
from shared.idnumber import mask_student_number
from shared.jurisdiction import OrgColumns, jurisdiction_filter
from shared.problems import not_found
from shared.service import Context


class StudentViewMixin:
    """Columns of ``student_view``; a service declares ``class StudentView(StudentViewMixin, Base)``."""

    __tablename__ = "student_view"

    student_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    student_number: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number_masked: Mapped[str] = mapped_column(String(40))
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    school_name: Mapped[str] = mapped_column(String(200))
    class_id: Mapped[str | None] = mapped_column(String(40))
    grade: Mapped[int] = mapped_column(Integer)
    major_code: Mapped[str | None] = mapped_column(String(20))
    study_length: Mapped[float] = mapped_column(Float)
    study_form: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def student_view_columns() -> list[Column[Any]]:
    """The same columns for the services' Alembic migrations."""
    return [
        Column("student_id", String(40), primary_key=True),
        Column("student_number", String(40), nullable=False, index=True),
        Column("name", String(100), nullable=False),
        Column("id_number_masked", String(40), nullable=False),
        Column("province_code", String(2), nullable=False),
        Column("city_code", String(4), nullable=False),
        Column("county_code", String(6), nullable=False),
        Column("school_code", String(10), nullable=False, index=True),
        Column("school_name", String(200), nullable=False),
        Column("class_id", String(40)),
        Column("grade", Integer, nullable=False),
        Column("major_code", String(20)),
        Column("study_length", Float, nullable=False),
        Column("study_form", String(20), nullable=False),
        Column("status", String(30), nullable=False),
        Column("updated_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    ]


def student_view_org_columns(model: type[StudentViewMixin]) -> OrgColumns:
    return OrgColumns(
        province=model.province_code,
        city=model.city_code,
        county=model.county_code,
        school=model.school_code,
        student=model.student_id,
    )


async def upsert_student_view(
    session: AsyncSession, model: type[StudentViewMixin], student: StudentSummary
) -> None:
    values = {
        "student_id": student.student_id,
        "student_number": student.student_number,
        "name": student.name,
        "id_number_masked": student.id_number_masked,
        "province_code": student.lineage.province,
        "city_code": student.lineage.city,
        "county_code": student.lineage.county,
        "school_code": student.lineage.school,
        "school_name": student.school_name,
        "class_id": student.class_id,
        "grade": student.grade,
        "major_code": student.major_code,
        "study_length": student.study_length,
        "study_form": student.study_form,
        "status": student.status,
    }
    statement = insert(model).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["student_id"], set_={**values, "updated_at": func.now()}
        )
    )


# A student arriving at a school: from another province, or from another school of this one.
ArrivalHook = Callable[[UnitOfWork, StudentSummary, EventEnvelope], Awaitable[None]]
_ARRIVALS = (StudentTransferredIn, StudentMovedWithinProvince)
# A student leaving for another province: the event names the transfer and the province.
DepartureHook = Callable[[UnitOfWork, StudentTransferredOut, EventEnvelope], Awaitable[None]]


def keep_student_view(
    subscriptions: Subscriptions,
    model: type[StudentViewMixin],
    *,
    on_arrival: ArrivalHook | None = None,
    on_departure: DepartureHook | None = None,
) -> None:
    """Subscribe a service to the enrollment events that keep its ``student_view`` current.

    ``on_arrival`` / ``on_departure`` run after the view follows a transfer, in the same unit of
    work: one handler per event type, so a service that must do more on a transfer says so here."""

    async def when_student_changed_keep_view(
        event: StudentRegistered
        | StudentTransferredIn
        | StudentTransferredOut
        | StudentMovedWithinProvince
        | StudentStatusChanged
        | StudentKeyDataChanged,
        meta: EventEnvelope,
        uow: UnitOfWork,
    ) -> None:
        await upsert_student_view(uow.session, model, event.student)
        if on_arrival is not None and isinstance(event, _ARRIVALS):
            await on_arrival(uow, event.student, meta)
        if on_departure is not None and isinstance(event, StudentTransferredOut):
            await on_departure(uow, event, meta)

    for event_type in (
        StudentRegistered,
        StudentTransferredIn,
        StudentTransferredOut,
        StudentMovedWithinProvince,
        StudentStatusChanged,
        StudentKeyDataChanged,
    ):
        subscriptions.on(event_type)(when_student_changed_keep_view)


def student_view_router(model: type[StudentViewMixin], *, tag: str) -> APIRouter:
    """``GET /api/v1/students/{id}``: the service's read-model view, inside the caller's jurisdiction."""
    router = APIRouter(prefix="/api/v1", tags=[tag])

    @router.get("/students/{student_id}", summary="A student as this service knows them (read model)")
    async def get_student_view(student_id: str, principal: CurrentPrincipal, ctx: Context) -> dict[str, Any]:
        async with ctx.sessionmaker() as session:
            row = await session.scalar(
                select(model).where(
                    model.student_id == student_id,
                    jurisdiction_filter(principal, student_view_org_columns(model)),
                )
            )
        if row is None:
            raise not_found(f"student {student_id}")
        return {
            "student_id": row.student_id,
            "student_number": mask_student_number(row.student_number),
            "name": row.name,
            "id_number_masked": row.id_number_masked,
            "province_code": row.province_code,
            "school_code": row.school_code,
            "school_name": row.school_name,
            "class_id": row.class_id,
            "grade": row.grade,
            "status": row.status,
            "updated_at": row.updated_at.isoformat(),
        }

    return router
