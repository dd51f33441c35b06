"""Jurisdiction: which records a principal may see, as a SQL filter (DOMAIN.md "Organisation tree
and roles"). Queries carry the filter; nothing is loaded first and checked after."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy.orm import QueryableAttribute

from shared.auth import Principal, Role


@dataclass(frozen=True)
class OrgColumns:
    """Where a table keeps the lineage of each row. Missing levels can never match."""

    province: QueryableAttribute[Any]
    city: QueryableAttribute[Any]
    county: QueryableAttribute[Any]
    school: QueryableAttribute[Any]
    counselor: QueryableAttribute[Any] | None = None
    student: QueryableAttribute[Any] | None = None


def jurisdiction_level(principal: Principal) -> str:
    """The lineage level a role is bounded by: province sees its province, a county its county…"""
    return {
        Role.MINISTRY: "ministry",
        Role.PROVINCE: "province",
        Role.CITY: "city",
        Role.COUNTY: "county",
        Role.SCHOOL_REGISTRAR: "school",
        Role.SCHOOL_LEADER: "school",
        Role.COUNSELOR: "counselor",
        Role.STUDENT: "student",
    }[principal.role]


def may_see(principal: Principal, lineage: Mapping[str, str | None]) -> bool:
    """The same rule as ``jurisdiction_filter`` over plain values (for rows already in hand,
    e.g. an event's payload)."""
    level = jurisdiction_level(principal)
    if level == "ministry":
        return True
    if level == "counselor":
        return lineage.get("counselor") == principal.account_id
    if level == "student":
        return principal.student_id is not None and lineage.get("student") == principal.student_id
    return lineage.get(level) == principal.org


def jurisdiction_filter(principal: Principal, columns: OrgColumns) -> ColumnElement[bool]:
    level = jurisdiction_level(principal)
    if level == "ministry":
        # Above every province: what a ministry account may *do* is decided per route
        # (it arbitrates cross-province problem records, nothing else).
        return true()
    if level == "counselor":
        counselor: QueryableAttribute[Any] | None = columns.counselor
        return false() if counselor is None else counselor == principal.account_id
    if level == "student":
        student: QueryableAttribute[Any] | None = columns.student
        if student is None or principal.student_id is None:
            return false()
        return student == principal.student_id
    column: QueryableAttribute[Any] = getattr(columns, level)
    return column == principal.org


def any_jurisdiction(principal: Principal, *lineages: OrgColumns) -> ColumnElement[bool]:
    """Visible if inside the caller's jurisdiction on any side (a transfer has two schools)."""
    return or_(*(jurisdiction_filter(principal, cols) for cols in lineages))


# A province (2 digits), city (4) or county (6) code: the tree's regions, as a query accepts them.
REGION_CODE_PATTERN = r"^([0-9]{2}|[0-9]{4}|[0-9]{6})$"
REGION_OR_SCHOOL_PATTERN = r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{10})$"  # … or a school's code
_LEVEL_OF_CODE_LENGTH = {2: "province", 4: "city", 6: "county", 10: "school"}


def within(columns: OrgColumns, code: str) -> ColumnElement[bool]:
    """Rows under one node of the tree, its level told by the code's length (2, 4, 6 or 10).
    A filter, not a permission: beside ``jurisdiction_filter`` it only ever narrows (a node
    outside the caller's jurisdiction meets it with nothing)."""
    column: QueryableAttribute[Any] = getattr(columns, _LEVEL_OF_CODE_LENGTH[len(code)])
    return column == code
