"""Reading a class workbook: columns by header, cells to candidates, unreadable files named."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from services.enrollment.domain.registration import Candidate
from services.enrollment.imports.template import (
    UnreadableWorkbook,
    candidate_of,
    failed_rows_workbook,
    filled_workbook,
    read_sheet,
    template_workbook,
)


def _book(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_read_sheet__columns_are_found_by_header_in_any_order() -> None:
    content = _book([["学制", "*姓名", "身份证号"], [3, "王一", "41010220100315123X"], [None, None, None]])
    sheet = read_sheet(content)
    assert sheet.id_type == "resident_id" and sheet.retry_of is None
    assert sheet.rows == [(2, {"学制": "3", "姓名": "王一", "身份证号": "41010220100315123X"})]


def test_read_sheet__an_id_typed_as_a_number_keeps_its_digits_where_excel_did() -> None:
    sheet = read_sheet(_book([["姓名", "身份证号", "学制"], ["王一", 410102201003151234, 3]]))
    assert sheet.rows[0][1]["身份证号"].startswith("4101022010031")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a workbook", "不是有效的 Excel"),
        (_book([["姓名", "学制"]]), "证件号码列"),
        (_book([["姓名", "身份证号", "护照号码"]]), "证件号码列"),
        (_book([["身份证号", "学制"]]), "缺少必填列：姓名"),
        (_book([["姓名", "护照号码", "学制"]]), "出生日期"),
    ],
)
def test_read_sheet__unreadable_files_say_why(content: bytes, reason: str) -> None:
    with pytest.raises(UnreadableWorkbook) as caught:
        read_sheet(content)
    assert reason in caught.value.reason_zh


def test_template_and_failed_rows__read_back() -> None:
    for id_type in ("resident_id", "hk_macao_taiwan", "passport"):
        assert len(read_sheet(template_workbook(id_type)).rows) == 1
    failed = failed_rows_workbook(
        "resident_id", "imp-1", [(7, {"姓名": "王一", "身份证号": "x", "学制": "3"}, "第7行 …")]
    )
    sheet = read_sheet(failed)
    assert sheet.retry_of == "imp-1" and sheet.rows[0][1]["姓名"] == "王一"
    assert (
        read_sheet(
            filled_workbook(
                "passport", [{"姓名": "A", "护照号码": "E1", "出生日期": "2010-01-01", "性别": "男"}]
            )
        ).id_type
        == "passport"
    )


def test_candidate_of__reads_the_cells() -> None:
    candidate = candidate_of(
        {"姓名": "王一", "身份证号": "x", "学制": "3.5", "学习形式": "非全日制", "入学方式": "未毕业初中学生",
         "出生日期": "2010/3/5", "性别": "女", "专业代码": "710201"},
        "resident_id",
    )  # fmt: skip
    assert candidate == Candidate(
        name="王一", id_type="resident_id", id_number="x", study_length=3.5, study_form="part_time",
        entry_route="junior_high_unfinished", sex="F", birth_date=date(2010, 3, 5), major_code="710201",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        ({"学制": "三年"}, "study_length"),
        ({"学制": "7"}, "study_length"),
        ({"学习形式": "业余"}, "study_form"),
        ({"入学方式": "插班"}, "entry_route"),
        ({"性别": "M"}, "sex"),
        ({"出生日期": "2010-13-01"}, "birth_date"),
        ({"姓名": ""}, "name"),
        ({"身份证号": ""}, "id_number"),
    ],
)
def test_candidate_of__unreadable_cells_name_their_field(cells: dict[str, str], field: str) -> None:
    values = {"姓名": "王一", "身份证号": "x", "学制": "3", **cells}
    result = candidate_of(values, "resident_id")
    assert isinstance(result, list) and [v.field for v in result] == [field]
