"""The class workbook the demo imports (学籍导入): seven students of a Henan class, one of them
with a mistyped ID number (check digit) and one the population registry does not know; and the
2023 class that graduates in step 9 (``graduating_workbook``): three students the registry knows,
so that each can be filed and graduate.

``deploy/seed/population.json`` (the demo's stand-in for the population registry) lists the
others; regenerate both with ``python -m deploy.local.class_workbook [out.xlsx]``.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from deploy.local.layout import POPULATION_FILE
from services.enrollment.imports.template import filled_workbook
from shared.idnumber import make_resident_id

COUNTY = "410102"  # 郑州市中原区

_KNOWN = [
    ("王浩然", date(2010, 3, 14), 131),
    ("李思琪", date(2010, 5, 2), 242),
    ("张一帆", date(2009, 11, 23), 357),
    ("刘雨桐", date(2010, 1, 30), 468),
    ("陈子墨", date(2010, 7, 9), 573),
]
_UNKNOWN = ("赵梓轩", date(2010, 2, 17), 615)  # not in the registry: temporary number
_MISTYPED = ("孙嘉怡", date(2010, 4, 21), 726)  # check digit wrong: the bad row


# The 2023 intake (3 years, graduating in 2026), registered late under the province's
# supplementary window (补注册): born 2007–2008, 15 or 16 on entry.
_GRADUATING = [
    ("周明轩", date(2007, 9, 3), 812),
    ("吴佳宁", date(2008, 2, 11), 924),
    ("郑博文", date(2007, 12, 19), 138),
]


def _id(birth: date, sequence: int) -> str:
    return make_resident_id(COUNTY, birth, sequence)


def _mistyped(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def demo_rows() -> list[dict[str, Any]]:
    rows = [{"姓名": n, "身份证号": _id(b, s), "学制": 3, "学习形式": "全日制"} for n, b, s in _KNOWN]
    name, birth, seq = _UNKNOWN
    rows.append({"姓名": name, "身份证号": _id(birth, seq), "学制": 3, "学习形式": "全日制"})
    name, birth, seq = _MISTYPED
    rows.append({"姓名": name, "身份证号": _mistyped(_id(birth, seq)), "学制": 3, "学习形式": "全日制"})
    return rows


def demo_workbook() -> bytes:
    return filled_workbook("resident_id", demo_rows())


def graduating_rows() -> list[dict[str, Any]]:
    return [{"姓名": n, "身份证号": _id(b, s), "学制": 3, "学习形式": "全日制"} for n, b, s in _GRADUATING]


def graduating_workbook() -> bytes:
    return filled_workbook("resident_id", graduating_rows())


def population() -> list[dict[str, str]]:
    return [{"name": n, "id_number": _id(b, s)} for n, b, s in _KNOWN + _GRADUATING]


def main() -> None:
    POPULATION_FILE.write_text(
        json.dumps(population(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_bytes(demo_workbook())


if __name__ == "__main__":
    main()
