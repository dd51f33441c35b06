"""Jurisdiction: the SQL filter bounds each role at its level of the organisation tree, and the
plain-value rule agrees with it (DOMAIN.md "Organisation tree and roles")."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import (
    BinaryExpression,
    BindParameter,
    ClauseElement,
    Column,
    ColumnElement,
    False_,
    True_,
    select,
)
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.auth import Principal, Role
from shared.jurisdiction import (
    REGION_OR_SCHOOL_PATTERN,
    OrgColumns,
    any_jurisdiction,
    jurisdiction_filter,
    may_see,
    within,
)


class RecordBase(DeclarativeBase):
    pass


class StudentRecord(RecordBase):
    __tablename__ = "student_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str]
    city_code: Mapped[str]
    county_code: Mapped[str]
    school_code: Mapped[str]
    counselor_account_id: Mapped[str | None]
    student_id: Mapped[str]


FULL = OrgColumns(
    province=StudentRecord.province_code,
    city=StudentRecord.city_code,
    county=StudentRecord.county_code,
    school=StudentRecord.school_code,
    counselor=StudentRecord.counselor_account_id,
    student=StudentRecord.student_id,
)
NO_PEOPLE = OrgColumns(
    province=StudentRecord.province_code,
    city=StudentRecord.city_code,
    county=StudentRecord.county_code,
    school=StudentRecord.school_code,
)
LINEAGE_KEY = {
    "province_code": "province",
    "city_code": "city",
    "county_code": "county",
    "school_code": "school",
    "counselor_account_id": "counselor",
    "student_id": "student",
}


def principal(role: Role, org: str, *, account: str = "acc-1", student: str | None = None) -> Principal:
    return Principal(
        account_id=account, username="u", role=role, org=org, province=org[:2], student_id=student
    )


PG = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect __init__ untyped


def sql(clause: ClauseElement) -> str:
    return str(clause.compile(dialect=PG, compile_kwargs={"literal_binds": True}))


def evaluate(clause: ColumnElement[bool], lineage: dict[str, str | None]) -> bool:
    """What PostgreSQL would answer for one row, for the shapes the filter produces (a NULL
    column never equals anything)."""
    if isinstance(clause, False_):
        return False
    if isinstance(clause, True_):  # the ministry: above every province
        return True
    assert isinstance(clause, BinaryExpression), sql(clause)
    left: Any = clause.left
    right: Any = clause.right
    assert isinstance(left, Column) and isinstance(right, BindParameter), sql(clause)
    value = lineage.get(LINEAGE_KEY[left.name])
    return value is not None and value == right.value


@pytest.mark.parametrize(
    ("role", "org", "expected"),
    [
        (Role.PROVINCE, "41", "student_record.province_code = '41'"),
        (Role.CITY, "4101", "student_record.city_code = '4101'"),
        (Role.COUNTY, "410102", "student_record.county_code = '410102'"),
        (Role.SCHOOL_REGISTRAR, "4101020001", "student_record.school_code = '4101020001'"),
        (Role.SCHOOL_LEADER, "4101020001", "student_record.school_code = '4101020001'"),
    ],
)
def test_jurisdiction_filter__bounds_each_role_at_its_level(role: Role, org: str, expected: str) -> None:
    assert sql(jurisdiction_filter(principal(role, org), FULL)) == expected


def test_jurisdiction_filter__counselor_sees_own_students() -> None:
    clause = jurisdiction_filter(principal(Role.COUNSELOR, "4101020001", account="acc-7"), FULL)
    assert sql(clause) == "student_record.counselor_account_id = 'acc-7'"


def test_jurisdiction_filter__counselor_without_counselor_column_sees_nothing() -> None:
    clause = jurisdiction_filter(principal(Role.COUNSELOR, "4101020001"), NO_PEOPLE)
    assert isinstance(clause, False_)
    assert "false" in sql(select(StudentRecord.id).where(clause)).lower()


def test_jurisdiction_filter__student_sees_only_self() -> None:
    me = principal(Role.STUDENT, "4101020001", student="s-1")
    assert sql(jurisdiction_filter(me, FULL)) == "student_record.student_id = 's-1'"
    assert isinstance(jurisdiction_filter(me, NO_PEOPLE), False_)
    assert isinstance(jurisdiction_filter(principal(Role.STUDENT, "4101020001"), FULL), False_)


def test_any_jurisdiction__either_side_of_a_transfer() -> None:
    clause = any_jurisdiction(principal(Role.COUNTY, "410102"), FULL, NO_PEOPLE)
    assert sql(clause).count("student_record.county_code = '410102'") == 2
    assert " OR " in sql(clause)


HENAN = {
    "province": "41",
    "city": "4101",
    "county": "410102",
    "school": "4101020001",
    "counselor": "acc-1",
    "student": "s-1",
}


@pytest.mark.parametrize(
    ("who", "lineage", "visible"),
    [
        (principal(Role.PROVINCE, "41"), HENAN, True),
        (principal(Role.PROVINCE, "37"), HENAN, False),
        (principal(Role.CITY, "4102"), HENAN, False),
        (principal(Role.COUNTY, "410102"), HENAN, True),
        (principal(Role.SCHOOL_LEADER, "4101020002"), HENAN, False),
        (principal(Role.COUNSELOR, "4101020001", account="acc-1"), HENAN, True),
        (principal(Role.COUNSELOR, "4101020001", account="acc-1"), {**HENAN, "counselor": None}, False),
        (principal(Role.STUDENT, "4101020001", student="s-2"), HENAN, False),
        (principal(Role.STUDENT, "4101020001"), {**HENAN, "student": None}, False),
    ],
)
def test_may_see__examples_agree_with_the_filter(
    who: Principal, lineage: dict[str, str | None], visible: bool
) -> None:
    assert may_see(who, lineage) is visible
    assert evaluate(jurisdiction_filter(who, FULL), lineage) is visible


def _maybe(*values: str) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values)


principals = st.builds(
    principal,
    role=st.sampled_from(list(Role)),
    org=st.sampled_from(["41", "37", "4101", "3701", "410102", "4101020001", "3701020001"]),
    account=st.sampled_from(["acc-1", "acc-2"]),
    student=_maybe("s-1", "s-2"),
)
lineages = st.fixed_dictionaries(
    {
        "province": st.sampled_from(["41", "37"]),
        "city": st.sampled_from(["4101", "3701"]),
        "county": st.sampled_from(["410102", "370102"]),
        "school": st.sampled_from(["4101020001", "3701020001"]),
        "counselor": _maybe("acc-1", "acc-2"),
        "student": _maybe("s-1", "s-2"),
    }
)


@given(who=principals, lineage=lineages)
def test_may_see__agrees_with_the_filter_for_any_role_and_row(
    who: Principal, lineage: dict[str, str | None]
) -> None:
    assert may_see(who, lineage) == evaluate(jurisdiction_filter(who, FULL), lineage)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("41", "student_record.province_code = '41'"),
        ("4101", "student_record.city_code = '4101'"),
        ("410102", "student_record.county_code = '410102'"),
        ("4101020001", "student_record.school_code = '4101020001'"),
    ],
)
def test_within__the_codes_length_names_the_trees_level(code: str, expected: str) -> None:
    assert sql(within(NO_PEOPLE, code)) == expected


@given(st.from_regex(REGION_OR_SCHOOL_PATTERN, fullmatch=True))
def test_within__every_code_the_queries_accept_has_a_level(code: str) -> None:
    assert sql(within(NO_PEOPLE, code)).endswith(f"= '{code}'")
