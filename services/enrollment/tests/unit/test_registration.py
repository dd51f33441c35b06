from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.registration import (
    formal_student_number,
    is_registrable_id_type,
    names_match,
    resident_id_in_number,
)
from shared.idnumber import make_resident_id


@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
def test_formal_student_number__is_g_and_the_id_and_reads_back(birth: date, sequence: int) -> None:
    id_number = make_resident_id("410102", birth, sequence)
    number = formal_student_number(id_number)
    assert number == "G" + id_number
    assert resident_id_in_number(number) == id_number


@pytest.mark.parametrize("number", ["L20250001", "G123", "", "X41010220090101001X"])
def test_resident_id_in_number__not_a_formal_number(number: str) -> None:
    assert resident_id_in_number(number) is None


@pytest.mark.parametrize(
    ("id_type", "registrable"),
    [("resident_id", True), ("hk_macao_taiwan", True), ("passport", True), ("none", False)],
)
def test_is_registrable_id_type__every_id_but_none(id_type: str, registrable: bool) -> None:
    assert is_registrable_id_type(id_type) is registrable  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("on_record", "given"),
    [("张三", "张三"), ("张三", " 张 三 "), ("阿依古丽·买买提", "阿依古丽•买买提"), ("Anna Li", "anna li")],
)
def test_names_match__same_person(on_record: str, given: str) -> None:
    assert names_match(on_record, given)


@pytest.mark.parametrize(("on_record", "given"), [("张三", "张山"), ("李䶮", "李岩"), ("张三", "")])
def test_names_match__different_person(on_record: str, given: str) -> None:
    assert not names_match(on_record, given)
