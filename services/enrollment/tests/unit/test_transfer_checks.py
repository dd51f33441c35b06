from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.registration import names_match
from services.enrollment.domain.transfer_checks import ClassHere, SchoolHere, destination_check, origin_check
from shared.events.common import Lineage

DEST = Lineage(province="41", city="4101", county="410102", school="4141010001")
SCHOOL = SchoolHere("4141010001", "41", "4101", "410102")
CLASS = ClassHere("class-4141010001-2024-1", "4141010001")


def _check(**overrides: object) -> tuple[bool, tuple[str, ...]]:
    args: dict[str, object] = {
        "destination": DEST,
        "school": SCHOOL,
        "class_id": CLASS.class_id,
        "klass": CLASS,
        "already_studying_here": False,
    }
    args.update(overrides)
    result = destination_check(**args)  # type: ignore[arg-type]
    return result.ok, result.reasons


def test_destination_check__school_and_class_here() -> None:
    assert _check() == (True, ())


def test_destination_check__no_class_named_checks_the_school_only() -> None:
    assert _check(class_id=None, klass=None) == (True, ())


def test_destination_check__unknown_school() -> None:
    ok, reasons = _check(school=None, klass=None)
    assert not ok
    assert any("转入学校" in r and "不存在" in r for r in reasons)


def test_destination_check__school_in_another_county() -> None:
    ok, reasons = _check(school=SchoolHere("4141010001", "41", "4101", "410105"))
    assert not ok
    assert reasons == ("转入学校不属于申请所填的区县（410102）",)


def test_destination_check__unknown_class() -> None:
    ok, reasons = _check(klass=None)
    assert not ok
    assert reasons == ("转入班级（class-4141010001-2024-1）不存在",)


def test_destination_check__class_of_another_school() -> None:
    ok, reasons = _check(klass=ClassHere(CLASS.class_id, "4141010002"))
    assert not ok
    assert reasons == ("转入班级（class-4141010001-2024-1）不属于转入学校",)


def test_destination_check__already_studying_here() -> None:
    ok, reasons = _check(already_studying_here=True)
    assert not ok
    assert len(reasons) == 1


def test_destination_check__every_problem_is_reported() -> None:
    ok, reasons = _check(school=None, klass=None, already_studying_here=True)
    assert not ok
    assert len(reasons) == 3


def test_origin_check__unknown_student() -> None:
    result = origin_check(name_on_record=None, name_given="李䶮")
    assert not result.ok
    assert result.reasons == ("转出省无此学籍号的学生",)


@given(st.sampled_from(["李䶮", "李岩", "李 䶮", "王五"]))
def test_origin_check__ok_exactly_when_the_name_matches(name_given: str) -> None:
    result = origin_check(name_on_record="李䶮", name_given=name_given)
    assert result.ok is names_match("李䶮", name_given)
    assert result.reasons == (() if result.ok else ("学生姓名与学籍号不符",))
