"""The registration window of a class's intake, as the database knows it: every path that
registers a new student (single entry, no-ID entry, the Excel import) asks
``registration_window_refusal`` per class; the rule itself is domain/registration_window.py.

Also where a grant's scope is resolved against the organisation tree, shared by the province's
API and the seed file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.enrollment.domain.filing import Intake, is_registration_open
from services.enrollment.domain.region_code import InvalidRegionCode, tree_code
from services.enrollment.domain.registration import RuleViolation
from services.enrollment.domain.registration_window import (
    SchoolPlace,
    SupplementaryWindow,
    intake_of_registration,
    registration_refusal,
)
from services.enrollment.models import Region, School, SchoolClass
from services.enrollment.models.registration_windows import SupplementaryRegistrationWindow

# The field a refusal is reported on: the class decides the intake.
REFUSED_FIELD = "class_id"


def place_of(school: School) -> SchoolPlace:
    return SchoolPlace(school.province_code, school.city_code, school.county_code, school.code)


def window_of(row: SupplementaryRegistrationWindow) -> SupplementaryWindow:
    return SupplementaryWindow(
        intake=Intake(row.intake_year, "spring" if row.season == "spring" else "autumn"),
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        province=row.province_code,
        city=row.city_code,
        county=row.county_code,
        school=row.school_code,
    )


async def open_windows(session: AsyncSession, intake: Intake, province: str) -> list[SupplementaryWindow]:
    """The grants of one intake not closed early (the domain decides which cover whom today)."""
    rows = await session.scalars(
        select(SupplementaryRegistrationWindow).where(
            SupplementaryRegistrationWindow.intake_year == intake.year,
            SupplementaryRegistrationWindow.season == intake.season,
            SupplementaryRegistrationWindow.province_code == province,
            SupplementaryRegistrationWindow.closed_at.is_(None),
        )
    )
    return [window_of(r) for r in rows]


async def window_refusal(
    session: AsyncSession, klass: SchoolClass, school: School, today: date
) -> tuple[str, str] | None:
    """None when a new student may be registered into ``klass`` today, else (en, zh)."""
    intake = intake_of_registration(klass.grade, today)
    if is_registration_open(intake, today):
        return None  # no query while the regular window serves
    windows = await open_windows(session, intake, school.province_code)
    return registration_refusal(intake, place_of(school), today, windows)


async def registration_window_refusal(
    session: AsyncSession, class_row: SchoolClass, today: date
) -> tuple[str, str] | None:
    """The per-class check for the Excel import: None when the class's intake may register
    today, else the reason (en, zh), to be reported on every row of the class."""
    school = await session.get(School, class_row.school_code)
    if school is None:  # the foreign key makes this impossible; refuse rather than let it pass
        return ("the class's school is unknown", "班级所属学校不存在")
    return await window_refusal(session, class_row, school, today)


async def window_violation(
    session: AsyncSession, klass: SchoolClass, school: School, today: date
) -> RuleViolation | None:
    """``window_refusal`` as a violation of the ``class_id`` field, to report beside the others."""
    refusal = await window_refusal(session, klass, school, today)
    if refusal is None:
        return None
    en, zh = refusal
    return RuleViolation(REFUSED_FIELD, zh, en)


@dataclass(frozen=True)
class Scope:
    """A grant's scope as stored: the lineage down to the level it is limited to."""

    province: str
    city: str | None = None
    county: str | None = None
    school: str | None = None

    @property
    def code(self) -> str:
        return self.school or self.county or self.city or self.province

    @property
    def level(self) -> str:
        if self.school:
            return "school"
        if self.county:
            return "county"
        return "city" if self.city else "province"


async def resolve_scope(session: AsyncSession, province: str, code: str | None) -> Scope | None:
    """The scope named by ``code`` (None or the province: the whole province; a city, county or
    school code of this province), or None when no such place is in this province's tree."""
    if code is None:
        return Scope(province)
    if len(code) == 10 and code.isascii() and code.isdigit():
        school = await session.get(School, code)
        if school is None or school.province_code != province:
            return None
        return Scope(province, school.city_code, school.county_code, school.code)
    try:
        region_code = tree_code(code)
    except InvalidRegionCode:
        return None
    if region_code[:2] != province:
        return None
    if len(region_code) == 2:
        return Scope(province)
    region = await session.get(Region, region_code)
    if region is None or region.level != ("city" if len(region_code) == 4 else "county"):
        return None
    if len(region_code) == 4:
        return Scope(province, region_code)
    # A county directly under the province (省直管县) has no city above it.
    city = region.parent_code if region.parent_code and len(region.parent_code) == 4 else None
    return Scope(province, city, region_code)
