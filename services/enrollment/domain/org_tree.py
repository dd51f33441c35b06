"""The organisation tree a province seeds (DOMAIN.md "Organisation tree and roles"): the seed
file's shape, and the flat rows it becomes. Accounts in the same file belong to identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.enrollment.domain.filing import Intake
from services.enrollment.domain.registration_window import grant_problems
from shared.events.common import Lineage


class _Seed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SeedCampus(_Seed):
    id: str = Field(min_length=1, max_length=40)
    name: str
    crs: Literal["WGS-84", "GCJ-02"]
    boundary: dict[str, Any]


class SeedMajor(_Seed):
    code: str = Field(min_length=1, max_length=20)
    name: str
    # Intake years the school filed this major for (招生资质). When the seed gives none, the
    # years its classes were enrolled in stand for them: those classes exist, so they were filed.
    years: list[int] = Field(default_factory=list)


class SeedClass(_Seed):
    id: str = Field(min_length=1, max_length=40)
    name: str
    grade: int = Field(ge=1900, le=2200)
    major_code: str


class SeedSchool(_Seed):
    code: str = Field(pattern=r"^[0-9]{10}$")
    name: str
    type: str
    campuses: list[SeedCampus] = Field(default_factory=list)
    majors: list[SeedMajor] = Field(default_factory=list)
    classes: list[SeedClass] = Field(default_factory=list)


class SeedCounty(_Seed):
    code: str = Field(pattern=r"^[0-9]{6}$")
    name: str
    schools: list[SeedSchool] = Field(default_factory=list)


class SeedCity(_Seed):
    code: str = Field(pattern=r"^[0-9]{4}$")
    name: str
    counties: list[SeedCounty] = Field(default_factory=list)


class SeedProvince(_Seed):
    code: str = Field(pattern=r"^[0-9]{2}$")
    name: str


class SeedSupplementaryWindow(_Seed):
    """A supplementary registration window (补注册) the deployment starts with, as if the
    province had granted it (domain/registration_window.py). ``scope`` None: the whole province."""

    intake_year: int = Field(ge=2000, le=2100)
    season: Literal["autumn", "spring"]
    scope: str | None = Field(None, min_length=2, max_length=10)
    starts_on: date
    ends_on: date
    reason: str = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _a_window_after_the_deadline(self) -> Self:
        # Judged as on its first day: a seed file is not refused for having been written earlier.
        problems = grant_problems(self.intake, self.starts_on, self.ends_on, self.starts_on)
        if problems:
            raise ValueError("; ".join(f"{field}: {en}" for field, en, _ in problems))
        return self

    @property
    def intake(self) -> Intake:
        return Intake(self.intake_year, self.season)


class OrgSeed(_Seed):
    province: SeedProvince
    cities: list[SeedCity] = Field(default_factory=list)
    supplementary_windows: list[SeedSupplementaryWindow] = Field(default_factory=list)


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    level: Literal["province", "city", "county"]
    parent_code: str | None


@dataclass(frozen=True)
class SchoolRow:
    lineage: Lineage
    name: str
    type: str


@dataclass(frozen=True)
class CampusRow:
    id: str
    school_code: str
    name: str
    crs: Literal["WGS-84", "GCJ-02"]
    boundary: dict[str, Any]


@dataclass(frozen=True)
class MajorRow:
    code: str
    name: str


@dataclass(frozen=True)
class QualificationRow:
    school_code: str
    major_code: str
    year: int


@dataclass(frozen=True)
class ClassRow:
    id: str
    school_code: str
    name: str
    grade: int
    major_code: str


@dataclass(frozen=True)
class OrgRows:
    """Parents before children in every list, so inserting in order satisfies foreign keys."""

    regions: list[RegionRow]
    schools: list[SchoolRow]
    campuses: list[CampusRow]
    majors: list[MajorRow]
    qualifications: list[QualificationRow]
    classes: list[ClassRow]


class InvalidOrgTree(ValueError):
    """A seed file whose tree contradicts itself (a code outside its parent, a duplicate)."""


def flatten(seed: OrgSeed) -> OrgRows:
    """The seed's nested tree as rows; raises ``InvalidOrgTree`` listing every inconsistency
    (a region code outside its parent, a class of a major the school does not teach)."""
    problems: list[str] = []
    province = seed.province
    rows = OrgRows([RegionRow(province.code, province.name, "province", None)], [], [], [], [], [])
    majors: dict[str, MajorRow] = {}
    for city in seed.cities:
        if not city.code.startswith(province.code):
            problems.append(f"city {city.code} is not in province {province.code}")
        rows.regions.append(RegionRow(city.code, city.name, "city", province.code))
        for county in city.counties:
            if not county.code.startswith(city.code):
                problems.append(f"county {county.code} is not in city {city.code}")
            rows.regions.append(RegionRow(county.code, county.name, "county", city.code))
            for school in county.schools:
                lineage = Lineage(
                    province=province.code, city=city.code, county=county.code, school=school.code
                )
                rows.schools.append(SchoolRow(lineage, school.name, school.type))
                _flatten_school(school, rows, majors, problems)
    rows.majors.extend(majors.values())
    if problems:
        raise InvalidOrgTree("; ".join(problems))
    return rows


def _flatten_school(
    school: SeedSchool, rows: OrgRows, majors: dict[str, MajorRow], problems: list[str]
) -> None:
    rows.campuses.extend(CampusRow(c.id, school.code, c.name, c.crs, c.boundary) for c in school.campuses)
    taught = {m.code for m in school.majors}
    for major in school.majors:
        majors.setdefault(major.code, MajorRow(major.code, major.name))
        years = set(major.years) or {c.grade for c in school.classes if c.major_code == major.code}
        rows.qualifications.extend(QualificationRow(school.code, major.code, y) for y in sorted(years))
    for klass in school.classes:
        if klass.major_code not in taught:
            problems.append(
                f"class {klass.id} of school {school.code} has major {klass.major_code} it does not teach"
            )
        rows.classes.append(ClassRow(klass.id, school.code, klass.name, klass.grade, klass.major_code))
