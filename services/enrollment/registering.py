"""Writing a registration: the one path single entry and the Excel import share.

Order matters: the identity check is an outside call, made before the unit of work opens (a
slow registry must not hold a transaction); the in-province duplicate check, the record, its
history line, its events and any problem record then go into the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import String, Table, exists, func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.domain.registration import (
    Registration,
    SchoolOffer,
    formal_student_number,
    needs_identity_check,
    temporary_student_number,
)
from services.enrollment.domain.student_state import StudentState
from services.enrollment.identity_check import IdentityVerdict, PopulationRegistry
from services.enrollment.models import Major, School, SchoolClass, SchoolMajor, Student, StudentHistory
from services.enrollment.problems import open_problem_record
from services.enrollment.records import summary_of
from shared.bus.unit_of_work import Emission, UnitOfWork
from shared.china_time import today_in_china
from shared.events.enrollment import IdDigestAnnounced, StudentRegistered
from shared.id_digest import id_digest
from shared.service import ServiceContext
from shared.workdays import WorkdayCalendar

# The tables themselves, for the import's multi-row INSERTs: through the ORM's bulk path each
# row was first sorted through the mapper, a cost per row the import does not need.
_STUDENT = cast(Table, Student.__table__)
_HISTORY = cast(Table, StudentHistory.__table__)
EXTRAS_KEY = "registration"


@dataclass(frozen=True)
class RegistrationDeps:
    """What registering needs from the process, built once at start (``ctx.extras``)."""

    province: str
    partners: tuple[str, ...]
    digest_key: bytes | None
    registry: PopulationRegistry
    calendar: WorkdayCalendar


def deps_of(ctx: ServiceContext) -> RegistrationDeps:
    deps: RegistrationDeps = ctx.extras[EXTRAS_KEY]
    return deps


async def identity_verdict(
    registry: PopulationRegistry, registration: Registration
) -> IdentityVerdict | None:
    """None when the ID type is not checked (foreign/HK/Macao/Taiwan: dedupe only)."""
    if not needs_identity_check(registration.id_type):
        return None
    return await registry.check(registration.name, registration.id_number)


async def write_registration(
    uow: UnitOfWork,
    registration: Registration,
    *,
    klass: SchoolClass,
    school: School,
    verdict: IdentityVerdict | None,
    deps: RegistrationDeps,
    source: str,
) -> tuple[Student, StudentHistory]:
    """Add the record, its history line, ``StudentRegistered``, the digest announcements and,
    for a failed identity check, the problem record — all in ``uow``, nothing committed."""
    now = datetime.now(UTC)
    student = Student(**_student_values(registration, klass=klass, school=school, verdict=verdict, deps=deps))
    history = StudentHistory(
        **_history_values(student.id, now, klass=klass, school=school, deps=deps, source=source)
    )
    uow.session.add_all([student, history])
    if verdict is not None and not verdict.passed:
        await uow.session.flush()  # the problem record's foreign key needs the row now
        await _open_identity_problem(uow, student, verdict, deps)
    for emission in _registration_events(student, school, now, deps):
        uow.emit(emission.payload, subject=emission.subject, to_province=emission.to_province)
    return student, history


@dataclass(frozen=True)
class CheckedRegistration:
    """A valid registration and its identity verdict (None: the ID type is not checked)."""

    registration: Registration
    verdict: IdentityVerdict | None


async def write_registrations(
    uow: UnitOfWork,
    checked: Sequence[CheckedRegistration],
    *,
    klass: SchoolClass,
    school: School,
    deps: RegistrationDeps,
    source: str,
) -> list[str]:
    """``write_registration`` for a batch of one class (the import): the same rows and events,
    written as one multi-row INSERT per table instead of ORM objects flushed one by one, which
    cost more than the database work itself. Returns the new students' ids, in order."""
    if not checked:
        return []
    now = datetime.now(UTC)
    students = [
        _student_values(c.registration, klass=klass, school=school, verdict=c.verdict, deps=deps)
        for c in checked
    ]
    await uow.session.execute(insert(_STUDENT), students)
    await uow.session.execute(
        insert(_HISTORY),
        [
            _history_values(values["id"], now, klass=klass, school=school, deps=deps, source=source)
            for values in students
        ],
    )
    emissions: list[Emission] = []
    for values, c in zip(students, checked, strict=True):
        # A transient object (never added to the session): what the event and problem helpers read.
        student = Student(**values)
        if c.verdict is not None and not c.verdict.passed:
            await _open_identity_problem(uow, student, c.verdict, deps)
        emissions.extend(_registration_events(student, school, now, deps))
    await uow.emit_many(emissions)
    return [values["id"] for values in students]


def _student_values(
    registration: Registration,
    *,
    klass: SchoolClass,
    school: School,
    verdict: IdentityVerdict | None,
    deps: RegistrationDeps,
) -> dict[str, Any]:
    student_id = str(uuid7())
    formal = verdict is not None and verdict.passed
    return {
        "id": student_id,
        "student_number": formal_student_number(registration.id_number)
        if formal
        else temporary_student_number(student_id),
        "name": registration.name,
        "sex": registration.sex,
        "birth_date": registration.birth_date,
        "id_type": registration.id_type,
        "id_number": registration.id_number,
        "province_code": school.province_code,
        "city_code": school.city_code,
        "county_code": school.county_code,
        "school_code": school.code,
        "class_id": klass.id,
        "major_code": registration.major_code,
        "grade": klass.grade,
        "study_length": registration.study_length,
        "study_form": registration.study_form,
        "nationality": registration.nationality,
        "ethnicity": registration.ethnicity,
        "status": StudentState.IN_SCHOOL.value,
        "frozen": False,
        "id_digest": id_digest(deps.digest_key, registration.id_type, registration.id_number)
        if deps.digest_key
        else None,
    }


def _history_values(
    student_id: str, now: datetime, *, klass: SchoolClass, school: School, deps: RegistrationDeps, source: str
) -> dict[str, Any]:
    return {
        "student_id": student_id,
        "at": now,
        "province": deps.province,
        "action": "registered",
        "detail": f"注册学籍（{source}）：{school.name} {klass.name}",
    }


async def _open_identity_problem(
    uow: UnitOfWork, student: Student, verdict: IdentityVerdict, deps: RegistrationDeps
) -> None:
    await open_problem_record(
        uow.session,
        kind="identity_check_failed",
        student=student,
        detail=f"{verdict.reason_zh}；已分配临时学籍号",
        acting_side="here",
        today=today_in_china(),
        calendar=deps.calendar,
    )


def _registration_events(
    student: Student, school: School, now: datetime, deps: RegistrationDeps
) -> list[Emission]:
    """``StudentRegistered`` for this province's services, and the ID digest for each partner."""
    events = [Emission(StudentRegistered(student=summary_of(student, school.name)), subject=student.id)]
    if student.id_digest is not None:
        announced = IdDigestAnnounced(digest=student.id_digest, student_id=student.id, registered_at=now)
        events.extend(Emission(announced, subject=student.id, to_province=p) for p in deps.partners)
    return events


async def class_of_school(
    session: AsyncSession, class_id: str, school_code: str
) -> tuple[SchoolClass, School] | None:
    """The class, if it belongs to the caller's school (the jurisdiction is in the query)."""
    found = (
        await session.execute(
            select(SchoolClass, School)
            .join(School, School.code == SchoolClass.school_code)
            .where(SchoolClass.id == class_id, SchoolClass.school_code == school_code)
        )
    ).first()
    return (found[0], found[1]) if found else None


async def load_offer(session: AsyncSession, klass: SchoolClass, majors: Iterable[str | None]) -> SchoolOffer:
    """The catalogue entries and enrolment qualifications (school_major) among ``majors`` and
    the class's own major, for the class's intake year."""
    wanted = {m for m in majors if m} | {klass.major_code}
    known = set(await session.scalars(select(Major.code).where(Major.code.in_(wanted))))
    qualified = set(
        await session.scalars(
            select(SchoolMajor.major_code).where(
                SchoolMajor.school_code == klass.school_code,
                SchoolMajor.year == klass.grade,
                SchoolMajor.major_code.in_(wanted),
            )
        )
    )
    return SchoolOffer(
        entry_year=klass.grade, class_major=klass.major_code, known_majors=known, qualified_majors=qualified
    )


async def class_and_offer(
    session: AsyncSession, class_id: str, school_code: str, major_code: str | None
) -> tuple[SchoolClass, School, SchoolOffer] | None:
    """``class_of_school`` and ``load_offer`` for one major in one round trip: single entry sits
    on a registrar's click, where each query is felt."""
    major = func.coalesce(literal(major_code, String), SchoolClass.major_code)
    known = exists().where(Major.code == major)
    qualified = exists().where(
        SchoolMajor.school_code == SchoolClass.school_code,
        SchoolMajor.year == SchoolClass.grade,
        SchoolMajor.major_code == major,
    )
    found = (
        await session.execute(
            select(SchoolClass, School, major, known, qualified)
            .join(School, School.code == SchoolClass.school_code)
            .where(SchoolClass.id == class_id, SchoolClass.school_code == school_code)
        )
    ).first()
    if found is None:
        return None
    klass, school, wanted, is_known, is_qualified = found
    offer = SchoolOffer(
        entry_year=klass.grade,
        class_major=klass.major_code,
        known_majors={wanted} if is_known else set(),
        qualified_majors={wanted} if is_qualified else set(),
    )
    return klass, school, offer
