"""The printed wording of a certificate (printing/face.py): seed 004 art. 17–19."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.printing.face import (
    GRADUATE_LIST_HEADER,
    MAX_OFFSET_MM,
    GraduateListRow,
    PrintLayout,
    certificate_fields,
    certificate_statement,
    certificate_title,
    chinese_date,
    chinese_year_month,
    graduate_list_cells,
    graduate_list_title,
    major_with_direction,
    sex_in_chinese,
    study_length_in_words,
    study_period,
)
from services.certificates.tests.faces import FACE

HALF_YEARS = st.integers(1, 19).map(lambda halves: halves / 2)


def test_chinese_year_month__no_leading_zero_no_day() -> None:
    assert chinese_year_month(date(2027, 6, 30)) == "2027年6月"
    assert chinese_year_month(date(2024, 11, 1)) == "2024年11月"


def test_chinese_date__full_date() -> None:
    assert chinese_date(date(2009, 3, 4)) == "2009年3月4日"


def test_study_period__start_to_end_in_months() -> None:
    assert study_period(date(2024, 9, 1), date(2027, 6, 30)) == "2024年9月至2027年6月"


@pytest.mark.parametrize(
    ("years", "words"),
    [(3, "三年"), (2.5, "两年半"), (2, "两年"), (1, "一年"), (0.5, "半年"), (4.5, "四年半"), (5, "五年")],
)
def test_study_length_in_words__examples(years: float, words: str) -> None:
    assert study_length_in_words(years) == words


@pytest.mark.parametrize("years", [0, -1, 2.3, 3.25, 10, 12.5])
def test_study_length_in_words__not_a_half_year_step_refused(years: float) -> None:
    with pytest.raises(ValueError, match="study length"):
        study_length_in_words(years)


@given(HALF_YEARS, HALF_YEARS)
def test_study_length_in_words__different_lengths_read_differently(a: float, b: float) -> None:
    assert (study_length_in_words(a) == study_length_in_words(b)) == (a == b)


@given(HALF_YEARS)
def test_study_length_in_words__half_years_say_ban(years: float) -> None:
    assert ("半" in study_length_in_words(years)) == (years != int(years))


def test_sex_in_chinese__unknown_prints_a_dash() -> None:
    assert (sex_in_chinese("M"), sex_in_chinese("F"), sex_in_chinese(None)) == ("男", "女", "—")


def test_major_with_direction__direction_in_full_width_brackets() -> None:
    assert major_with_direction("数控技术应用", "数控车削加工") == "数控技术应用（数控车削加工）"
    assert major_with_direction("会计事务", None) == "会计事务"
    assert major_with_direction("会计事务", "") == "会计事务"


@pytest.mark.parametrize(
    ("kind", "outcome", "title"),
    [
        ("graduation", "graduated", "毕业证书"),
        ("graduation", "completed", "结业证书"),
        ("graduation", "left_without_completing", "肄业证书"),
        ("education_certificate", "graduated", "学历证明书"),
        ("education_certificate", "completed", "学历证明书"),
    ],
)
def test_certificate_title__named_after_outcome_or_replacement(kind: str, outcome: str, title: str) -> None:
    assert certificate_title(kind, outcome) == title  # type: ignore[arg-type]


def test_certificate_statement__outcome_worded_and_replacement_has_same_effect() -> None:
    assert certificate_statement("graduation", "graduated").endswith("准予毕业。")
    assert certificate_statement("graduation", "completed").endswith("准予结业。")
    assert certificate_statement("graduation", "left_without_completing").endswith("准予肄业。")
    replacement = certificate_statement("education_certificate", "completed")
    assert "准予结业" in replacement and "原证书遗失" in replacement and "同等效力" in replacement


def test_certificate_fields__every_field_of_art_17_worded() -> None:
    printed = certificate_fields(FACE)
    assert printed == {
        "title": "毕业证书",
        "name": "王𬌗",
        "sex": "男",
        "birth_date": "2009年5月1日",
        "id_number": "41010220090501123X",
        "study_period": "2024年9月至2027年6月",
        "major": "计算机应用（网络技术）",
        "study_length": "三年",
        "study_form": "全日制",
        "outcome": "毕业",
        "statement": "该生在本校修完中等职业学校教学计划规定的全部课程，成绩合格，准予毕业。",
        "school_name": "郑州市信息技术中等职业学校",
        "issuer": "河南省教育厅",
        "issued_on": "2027年6月11日",
        "number": "2027-410102-4141010001-0000123-45",
    }


def test_certificate_fields__missing_sex_and_birth_date_print_dashes() -> None:
    printed = certificate_fields(replace(FACE, sex=None, birth_date=None, study_form="part_time"))
    assert (printed["sex"], printed["birth_date"], printed["study_form"]) == ("—", "—", "非全日制")


def test_certificate_face__study_ending_before_it_starts_refused() -> None:
    with pytest.raises(ValueError, match="study_end"):
        replace(FACE, study_end=date(2024, 8, 31))


def test_certificate_face__study_length_without_wording_refused() -> None:
    with pytest.raises(ValueError, match="study length"):
        replace(FACE, study_length=3.3)


@pytest.mark.parametrize("offset", [MAX_OFFSET_MM, -MAX_OFFSET_MM, 0.0, 2.5])
def test_print_layout__offset_within_limit(offset: float) -> None:
    assert PrintLayout(offset_x_mm=offset, offset_y_mm=-offset).offset_x_mm == offset


@pytest.mark.parametrize(
    ("x", "y"), [(MAX_OFFSET_MM + 0.1, 0.0), (0.0, -MAX_OFFSET_MM - 0.1), (100.0, 100.0)]
)
def test_print_layout__offset_past_limit_refused(x: float, y: float) -> None:
    with pytest.raises(ValueError, match="offset"):
        PrintLayout(offset_x_mm=x, offset_y_mm=y)


def test_print_layout__draft_until_told_otherwise() -> None:
    assert PrintLayout().draft is True


def test_graduate_list_cells__id_number_masked_and_fields_in_header_order() -> None:
    row = GraduateListRow(
        name="李䶮",
        sex="F",
        id_number="410102200905061228",
        major_name="会计事务",
        skill_direction=None,
        outcome="completed",
        certificate_number="2027-410102-0001-00043-88",
    )
    cells = graduate_list_cells(7, row)
    assert len(cells) == len(GRADUATE_LIST_HEADER)
    assert cells == ["7", "李䶮", "女", "4101**********1228", "会计事务", "结业", "2027-410102-0001-00043-88"]
    assert "410102200905061228" not in cells


def test_graduate_list_title__school_and_year() -> None:
    assert (
        graduate_list_title("郑州市第一中等专业学校", 2027)
        == "郑州市第一中等专业学校2027年中等职业学校毕业生名单"
    )
