"""Who arbitrates a problem record both sides gave evidence for (DOMAIN.md "Problem records";
seed 002 省内问题学籍处理说明: "两学生所在学校的共同上级教育部门仲裁", 跨省: "需要教育部仲裁")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ArbiterLevel = Literal["county", "city", "province", "ministry"]
MINISTRY_ORG = "000000"  # no GB/T 2260 code names the ministry: a fixed marker, never a region


@dataclass(frozen=True)
class SchoolPlace:
    """A school's place in the tree: its province, city and county codes."""

    province: str
    city: str
    county: str


@dataclass(frozen=True)
class Arbiter:
    level: ArbiterLevel
    org: str  # the bureau's region code (MINISTRY_ORG for the ministry)


def common_superior(a: SchoolPlace, b: SchoolPlace) -> Arbiter:
    """The lowest bureau above both schools: same county → the county, same city → the city,
    same province → the province, different provinces → the ministry."""
    if a.province != b.province:
        return Arbiter("ministry", MINISTRY_ORG)
    if a.city != b.city:
        return Arbiter("province", a.province)
    if a.county != b.county:
        return Arbiter("city", a.city)
    return Arbiter("county", a.county)
