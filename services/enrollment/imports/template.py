"""The Excel template per ID type, and turning a sheet's cells back into candidates.

Columns are found by their Chinese header, not by position, so a registrar may reorder them and
the failed-rows workbook (with 原行号 and 错误原因 beside the data) can be uploaded again as is.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from python_calamine import CalamineError, CalamineWorkbook

from services.enrollment.domain.registration import Candidate, IdType, RuleViolation
from services.enrollment.domain.study_length import ENTRY_ROUTES_ZH, EntryRoute

ID_HEADERS: dict[IdType, str] = {
    "resident_id": "身份证号",
    "hk_macao_taiwan": "港澳台居民证件号码",
    "passport": "护照号码",
}
# Column of each field; the ID column's header names the ID type of the whole sheet.
FIELD_HEADERS = {
    "name": "姓名",
    "birth_date": "出生日期",
    "sex": "性别",
    "major_code": "专业代码",
    "study_length": "学制",
    "study_form": "学习形式",
    "entry_route": "入学方式",
}
ORIGINAL_ROW = "原行号"
REASON = "错误原因"
MARKER_SHEET = "_xueji"  # hidden sheet of a failed-rows workbook: the import it came from
DATA_SHEET = "学生信息"

_FORMS = {"全日制": "full_time", "非全日制": "part_time"}
_SEXES = {"男": "M", "女": "F"}
_ROUTES: dict[str, EntryRoute] = {zh: route for route, zh in ENTRY_ROUTES_ZH.items()}


def headers_for(id_type: IdType) -> list[str]:
    h = FIELD_HEADERS
    return [h["name"], ID_HEADERS[id_type], *(h[f] for f in _AFTER_ID)]


_AFTER_ID = ("birth_date", "sex", "major_code", "study_length", "study_form", "entry_route")


def column_of(field: str, id_type: IdType) -> str:
    return ID_HEADERS[id_type] if field == "id_number" else FIELD_HEADERS.get(field, field)


def _required(id_type: IdType) -> set[str]:
    needed = {FIELD_HEADERS["name"], ID_HEADERS[id_type], FIELD_HEADERS["study_length"]}
    if id_type != "resident_id":
        needed |= {FIELD_HEADERS["birth_date"], FIELD_HEADERS["sex"]}
    return needed


_EXAMPLES: dict[IdType, list[Any]] = {
    "resident_id": ["张三", "41010220090315123X", "", "", "", 3, "全日制", "应届初中毕业生"],
    "hk_macao_taiwan": ["陈大文", "H12345678", "2009-03-15", "男", "", 3, "全日制", "应届初中毕业生"],
    "passport": ["Anna Li", "E12345678", "2009-03-15", "女", "", 3, "全日制", "应届初中毕业生"],
}


def _sheet(wb: Workbook, id_type: IdType, extra: list[str]) -> Any:
    ws = wb.active
    ws.title = DATA_SHEET
    headers = headers_for(id_type) + extra
    ws.append(headers)
    required = _required(id_type)
    for cell in ws[1]:
        # Red headers are required (the national template's convention, seed 003).
        cell.font = Font(bold=True, color="C00000" if cell.value in required else "000000")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
    for letter in "ABCDEFGHIJ":
        ws.column_dimensions[letter].width = 22
    return ws


def _text_columns(ws: Any, id_type: IdType, last_row: int) -> None:
    # An 18-digit number typed into a general cell becomes a float and loses its last digits.
    id_col = headers_for(id_type).index(ID_HEADERS[id_type]) + 1
    for row in range(2, last_row + 1):
        ws.cell(row=row, column=id_col).number_format = "@"


def template_workbook(id_type: IdType) -> bytes:
    """Chinese headers and one example row (to be replaced by the class's students)."""
    wb = Workbook()
    ws = _sheet(wb, id_type, [])
    ws.append(_EXAMPLES[id_type])
    _text_columns(ws, id_type, 501)  # room for a class or several
    notes = wb.create_sheet("填写说明")
    for line in (
        "红色表头为必填项；每个班级只能导入一次，导入失败的行可下载“失败行”工作簿修改后再次上传。",
        "居民身份证学生的性别和出生日期由身份证号码得出，可不填；填写时须与身份证号码一致。",
        "学习形式：全日制 / 非全日制；入学方式："
        + " / ".join(ENTRY_ROUTES_ZH.values())
        + "（默认应届初中毕业生）。",
        "专业代码留空时取班级的专业；学制单位为年（如 3、3.5）。",
    ):
        notes.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def failed_rows_workbook(
    id_type: IdType, import_id: str, rows: list[tuple[int, dict[str, Any], str]]
) -> bytes:
    """The failed rows as they were uploaded, with the original row and the reasons beside."""
    wb = Workbook()
    ws = _sheet(wb, id_type, [ORIGINAL_ROW, REASON])
    headers = headers_for(id_type)
    for row_number, values, reasons in rows:
        ws.append([values.get(h, "") for h in headers] + [row_number, reasons])
    _text_columns(ws, id_type, len(rows) + 1)
    marker = wb.create_sheet(MARKER_SHEET)
    marker["A1"] = import_id
    marker.sheet_state = "hidden"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class UnreadableWorkbook(Exception):
    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_zh = reason_zh
        self.reason_en = reason_en


@dataclass(frozen=True)
class Sheet:
    id_type: IdType
    rows: list[tuple[int, dict[str, str]]]  # (Excel row number, header -> text)
    retry_of: str | None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 1e6 else f"{value:g}"
    return str(value).strip()


def read_sheet(content: bytes) -> Sheet:
    """The data rows of an uploaded workbook; raises ``UnreadableWorkbook`` for a file that is
    not a workbook or lacks a required column."""
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(content))
        names = wb.sheet_names
        data = wb.get_sheet_by_name(DATA_SHEET if DATA_SHEET in names else names[0]).to_python(
            skip_empty_area=False
        )
        retry_of = None
        if MARKER_SHEET in names:
            marker = wb.get_sheet_by_name(MARKER_SHEET).to_python()
            retry_of = _text(marker[0][0]) if marker and marker[0] else None
    except (CalamineError, ValueError, IndexError, OSError) as exc:
        raise UnreadableWorkbook(
            "文件不是有效的 Excel 工作簿（.xlsx）", f"not a readable xlsx workbook: {exc}"
        ) from None
    if not data:
        raise UnreadableWorkbook("工作簿为空", "the workbook is empty")
    header = [_text(h).lstrip("*").strip() for h in data[0]]
    id_types = [t for t, h in ID_HEADERS.items() if h in header]
    if len(id_types) != 1:
        raise UnreadableWorkbook(
            "表头中须有且只有一个证件号码列（身份证号 / 港澳台居民证件号码 / 护照号码），请使用下载的模板",
            "the header needs exactly one ID column; use the downloaded template",
        )
    id_type = id_types[0]
    missing = [h for h in headers_for(id_type) if h in _required(id_type) and h not in header]
    if missing:
        raise UnreadableWorkbook(
            f"缺少必填列：{'、'.join(missing)}", f"missing required columns: {', '.join(missing)}"
        )
    wanted = {h: i for i, h in enumerate(header) if h in headers_for(id_type)}
    rows: list[tuple[int, dict[str, str]]] = []
    for index, raw in enumerate(data[1:], start=2):
        values = {h: _text(raw[i]) if i < len(raw) else "" for h, i in wanted.items()}
        if any(values.values()):
            rows.append((index, values))
    return Sheet(id_type=id_type, rows=rows, retry_of=retry_of)


def candidate_of(values: dict[str, str], id_type: IdType) -> Candidate | list[RuleViolation]:
    """Cells to a candidate; cells that cannot even be read are violations of their field."""
    h = FIELD_HEADERS
    problems: list[RuleViolation] = []
    length_text = values.get(h["study_length"], "")
    try:
        study_length = float(length_text)
        if not (1 <= study_length <= 6 and (study_length * 2).is_integer()):
            raise ValueError
    except ValueError:
        problems.append(
            RuleViolation(
                "study_length", "学制应为1–6之间的整年或半年数", "study length must be 1–6 in half years"
            )
        )
        study_length = 3.0
    form_text = values.get(h["study_form"], "") or "全日制"
    form = _FORMS.get(form_text)
    if form is None:
        problems.append(
            RuleViolation(
                "study_form", "学习形式应为“全日制”或“非全日制”", "study form must be 全日制 or 非全日制"
            )
        )
    route_text = values.get(h["entry_route"], "") or ENTRY_ROUTES_ZH["junior_high_graduate"]
    route = _ROUTES.get(route_text)
    if route is None:
        problems.append(
            RuleViolation(
                "entry_route", "入学方式应为：" + " / ".join(ENTRY_ROUTES_ZH.values()), "unknown entry route"
            )
        )
    sex_text = values.get(h["sex"], "")
    sex = _SEXES.get(sex_text) if sex_text else None
    if sex_text and sex is None:
        problems.append(RuleViolation("sex", "性别应为“男”或“女”", "sex must be 男 or 女"))
    birth = None
    birth_text = values.get(h["birth_date"], "")
    if birth_text:
        try:
            birth = _parse_date(birth_text)
        except ValueError:
            problems.append(
                RuleViolation(
                    "birth_date", "出生日期格式不正确（应为 YYYY-MM-DD）", "birth date must be YYYY-MM-DD"
                )
            )
    id_text = values.get(ID_HEADERS[id_type], "")
    if not id_text:
        problems.append(RuleViolation("id_number", "证件号码不能为空", "ID number is required"))
    name = values.get(h["name"], "")
    if not name:
        problems.append(RuleViolation("name", "姓名不能为空", "name is required"))
    if problems or form is None or route is None:
        return problems
    return Candidate(
        name=name,
        id_type=id_type,
        id_number=id_text,
        study_length=study_length,
        study_form=form,  # type: ignore[arg-type]
        entry_route=route,
        sex=sex,  # type: ignore[arg-type]
        birth_date=birth,
        major_code=values.get(h["major_code"]) or None,
    )


def _parse_date(text: str) -> date:
    """2009-03-15, 2009/3/15, 2009.3.15 or 20090315, as people type dates into Excel."""
    for sep in "/.":
        text = text.replace(sep, "-")
    if "-" in text:
        year, month, day = (int(part) for part in text.split("-"))
        return date(year, month, day)
    return datetime.strptime(text, "%Y%m%d").date()


def filled_workbook(id_type: IdType, rows: list[dict[str, Any]]) -> bytes:
    """A template filled with ``rows`` (header -> value), as a registrar would upload it: for
    the demo, the benchmark and tests. Write-only mode: 100,000 rows in seconds."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    headers = headers_for(id_type)
    ws.append(headers)
    for row in rows:
        ws.append([row.get(h, "") for h in headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
