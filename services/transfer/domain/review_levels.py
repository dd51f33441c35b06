"""The levels that review a transfer and who may act at each (DOMAIN.md "Transfers").

A level is a side of the case (the origin the student leaves, the destination they join) and an
organisation level on that side: the school, or its county, city or province bureau.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from shared.auth import SCHOOL_ROLES, Role


class Side(StrEnum):
    ORIGIN = "origin"
    DESTINATION = "dest"


OrgLevel = Literal["school", "county", "city", "province"]


class ReviewLevel(StrEnum):
    ORIGIN_SCHOOL = "origin_school"
    ORIGIN_COUNTY = "origin_county"
    ORIGIN_CITY = "origin_city"
    ORIGIN_PROVINCE = "origin_province"
    DEST_SCHOOL = "dest_school"
    DEST_COUNTY = "dest_county"
    DEST_CITY = "dest_city"
    DEST_PROVINCE = "dest_province"

    @property
    def side(self) -> Side:
        return Side(self.value.split("_", 1)[0])

    @property
    def org_level(self) -> OrgLevel:
        org: OrgLevel = self.value.split("_", 1)[1]  # type: ignore[assignment]
        return org


LEVEL_LABELS: Mapping[ReviewLevel, str] = MappingProxyType(
    {
        ReviewLevel.ORIGIN_SCHOOL: "转出学校",
        ReviewLevel.ORIGIN_COUNTY: "转出学校所属教育局",
        ReviewLevel.ORIGIN_CITY: "转出地市教育局",
        ReviewLevel.ORIGIN_PROVINCE: "转出省教育厅",
        ReviewLevel.DEST_SCHOOL: "转入学校",
        ReviewLevel.DEST_COUNTY: "转入学校所属教育局",
        ReviewLevel.DEST_CITY: "转入地市教育局",
        ReviewLevel.DEST_PROVINCE: "转入省教育厅",
    }
)

_ROLES: Mapping[OrgLevel, frozenset[Role]] = MappingProxyType(
    {
        "school": SCHOOL_ROLES,  # the registrar or the leader in charge of records (学籍主管领导)
        "county": frozenset({Role.COUNTY}),
        "city": frozenset({Role.CITY}),
        "province": frozenset({Role.PROVINCE}),
    }
)


@dataclass(frozen=True)
class OrgLineage:
    """One side's place in the organisation tree; the origin's is unknown until its check."""

    province: str
    city: str | None
    county: str | None
    school: str | None

    def org_at(self, level: OrgLevel) -> str | None:
        return {"school": self.school, "county": self.county, "city": self.city, "province": self.province}[
            level
        ]


@dataclass(frozen=True)
class CaseLineage:
    origin: OrgLineage
    destination: OrgLineage

    def side(self, side: Side) -> OrgLineage:
        return self.origin if side is Side.ORIGIN else self.destination


def roles_for(level: ReviewLevel) -> frozenset[Role]:
    return _ROLES[level.org_level]


def reviewer_org(level: ReviewLevel, lineage: CaseLineage) -> tuple[str, str | None]:
    """(province, organisation code) of the office that reviews at ``level``."""
    side = lineage.side(level.side)
    return side.province, side.org_at(level.org_level)


def may_review(role: Role, org: str, province: str, level: ReviewLevel, lineage: CaseLineage) -> bool:
    """A school level is reviewed by that school's registrar or leader, a bureau level by the
    bureau above that school at the level's rank, each in its own province."""
    where, expected_org = reviewer_org(level, lineage)
    return role in roles_for(level) and expected_org is not None and org == expected_org and province == where
