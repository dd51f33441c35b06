"""Writing a registration: the one path single entry and the Excel import share.

Order matters: the identity check is an outside call, made before the unit of work opens (a
slow registry must not hold a transaction); the in-province duplicate check, the record, its
history line, its events and any problem record then go into the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import String, exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.enrollment.dedupe import id_digest
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
from shared.bus.unit_of_work import UnitOfWork
from shared.events.enrollment import IdDigestAnnounced, StudentRegistered
from shared.service import ServiceContext
from shared.workdays import WorkdayCalendar

CHINA = ZoneInfo("Asia/Shanghai")
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


def today_in_china() -> date:
    return datetime.now(CHINA).date()


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
    student_id = str(uuid7())
    formal = verdict is not None and verdict.passed
    digest = (
        id_digest(deps.digest_key, registration.id_type, registration.id_number) if deps.digest_key else None
    )
    now = datetime.now(UTC)
    student = Student(
        id=student_id,
        student_number=formal_student_number(registration.id_number)
        if formal
        else temporary_student_number(student_id),
        name=registration.name,
        sex=registration.sex,
        birth_date=registration.birth_date,
        id_type=registration.id_type,
        id_number=registration.id_number,
        province_code=school.province_code,
        city_code=school.city_code,
        county_code=school.county_code,
        school_code=school.code,
        class_id=klass.id,
        major_code=registration.major_code,
        grade=klass.grade,
        study_length=registration.study_length,
        study_form=registration.study_form,
        nationality=registration.nationality,
        ethnicity=registration.ethnicity,
        status=StudentState.IN_SCHOOL.value,
        frozen=False,
        id_digest=digest,
    )
    history = StudentHistory(
        student_id=student_id,
        at=now,
        province=deps.province,
        action="registered",
        detail=f"注册学籍（{source}）：{school.name} {klass.name}",
    )
    # No flush here: an import adds hundreds of rows and flushes them as one multi-row INSERT
    # at commit (the unit of work orders student before history by their foreign key).
    uow.session.add_all([student, history])
    if verdict is not None and not verdict.passed:
        await uow.session.flush()  # the problem record's foreign key needs the row now
        await open_problem_record(
            uow.session,
            kind="identity_check_failed",
            student=student,
            detail=f"{verdict.reason_zh}；已分配临时学籍号",
            acting_side="here",
            today=today_in_china(),
            calendar=deps.calendar,
        )
    uow.emit(StudentRegistered(student=summary_of(student, school.name)), subject=student_id)
    if digest is not None:
        for partner in deps.partners:
            uow.emit(
                IdDigestAnnounced(digest=digest, student_id=student_id, registered_at=now),
                subject=student_id,
                to_province=partner,
            )
    return student, history


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
