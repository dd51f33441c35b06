"""Registration by Excel: every kind of bad row reported, none half-written; the same file never
registers anyone twice; a class is imported once; the failed rows come back fixed."""

from __future__ import annotations

import asyncio
import io
from datetime import date

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.enrollment.models import Major, Student, StudentHistory
from services.enrollment.tests.integration.conftest import COUNTY, SCHOOL, Province, envelope_of
from services.enrollment.tests.integration.imports_support import (
    finished,
    fresh_id,
    new_class,
    report,
    row,
    upload,
    workbook,
)
from shared.auth import Role
from shared.idnumber import make_resident_id

REGISTERED = "enrollment.student.registered"


async def _students_in(p: Province, class_id: str) -> list[Student]:
    async with p.ctx.sessionmaker() as session:
        return list(await session.scalars(select(Student).where(Student.class_id == class_id)))


async def test_template__chinese_headers_and_an_example_row_per_id_type(p37: Province) -> None:
    for id_type, id_header in (
        ("resident_id", "身份证号"),
        ("hk_macao_taiwan", "港澳台居民证件号码"),
        ("passport", "护照号码"),
    ):
        response = await p37.client.get(
            "/api/v1/registrations/template",
            params={"id_type": id_type},
            headers=p37.auth(Role.SCHOOL_REGISTRAR),
        )
        assert response.status_code == 200
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
        assert sheet[0][:2] == ["姓名", id_header] and "学制" in sheet[0]
        assert sheet[1][0] and not any(any(cells) for cells in sheet[2:])


async def test_template__needs_a_school_account(p37: Province) -> None:
    url = "/api/v1/registrations/template"
    assert (await p37.client.get(url)).status_code == 401
    assert (await p37.client.get(url, headers=p37.auth(Role.COUNTY))).status_code == 403
    bad = await p37.client.get(url, params={"id_type": "none"}, headers=p37.auth(Role.SCHOOL_REGISTRAR))
    assert bad.status_code == 422


async def test_import__every_kind_of_bad_row_is_reported_and_none_half_written(p37: Province) -> None:
    class_id = await new_class(p37)
    async with p37.ctx.sessionmaker() as session:  # in the catalogue, never filed by the school
        await session.execute(insert(Major).values(code="720101", name="学前教育").on_conflict_do_nothing())
        await session.commit()
    taken = await p37.register(
        name="已注册", class_id=f"class-{SCHOOL['37']}-2025-1", id_number=fresh_id(p37)
    )
    good1, good2 = fresh_id(p37), fresh_id(p37)
    wrong_check = fresh_id(p37)
    wrong_check = wrong_check[:17] + ("0" if wrong_check[17] != "0" else "1")
    other_birth = make_resident_id(COUNTY["37"], date(2010, 5, 6), 17)
    rows = [
        row("甲一", good1),  # row 2
        row("乙二", wrong_check),  # 3: check digit
        row("丙三", other_birth, 出生日期="2010-05-07"),  # 4: birth date vs ID
        row("丁四", fresh_id(p37), 学制=2),  # 5: entry age vs study length
        row("戊五", fresh_id(p37), 专业代码="999999"),  # 6: unknown major
        row("己六", fresh_id(p37), 专业代码="720101"),  # 7: not qualified
        row("庚七", good1),  # 8: duplicate of row 2
        row("辛八", taken["student_number"][1:]),  # 9: already registered
        row("壬九", good2),  # 10
    ]
    accepted = await upload(p37, class_id, workbook(rows))
    assert accepted.status_code == 202, accepted.text
    progress = await finished(p37, accepted.json()["id"])
    assert (progress["total"], progress["processed"], progress["registered"], progress["failed"]) == (
        9,
        9,
        2,
        7,
    )

    by_row = {r["row"]: r for r in (await report(p37, progress["id"]))["failed_rows"]}
    expected = {
        3: ("身份证号", "校验位"),
        4: ("出生日期", "出生日期与身份证号码不符"),
        5: ("学制", "入学年龄与学制不符"),
        6: ("专业代码", "不在中职专业目录"),
        7: ("专业代码", "招生资质"),
        8: ("身份证号", "与第2行"),
        9: ("身份证号", "已在本省注册"),
    }
    assert set(by_row) == set(expected)
    for number, (column, reason) in expected.items():
        assert by_row[number]["message_zh"].startswith(f"第{number}行"), by_row[number]
        [problem] = by_row[number]["problems"]
        assert problem["column"] == column and reason in problem["reason_zh"], (number, problem)

    students = await _students_in(p37, class_id)
    assert sorted(s.name for s in students) == ["壬九", "甲一"]
    async with p37.ctx.sessionmaker() as session:
        for student in students:
            lines = await session.scalar(select(func.count()).where(StudentHistory.student_id == student.id))
            assert lines == 1
            assert student.id_digest is not None and len(student.id_digest) == 64
    for student in students:
        assert len(await p37.outbox_about(REGISTERED, student.id)) == 1
        [announced] = await p37.outbox_about("enrollment.id_digest.announced", student.id)
        assert announced.routing_key.startswith("41.") and good1 not in announced.body.decode()
    assert next(s for s in students if s.name == "甲一").student_number == "G" + good1


async def test_import__same_file_again_is_the_same_import_and_a_class_is_imported_once(p37: Province) -> None:
    class_id = await new_class(p37)
    content = workbook([row("张一", fresh_id(p37)), row("张二", fresh_id(p37))])
    first = await upload(p37, class_id, content)
    await finished(p37, first.json()["id"])
    again = await upload(p37, class_id, content, name="renamed.xlsx")
    assert again.status_code == 202
    assert again.json() == {"id": first.json()["id"], "status": "done", "duplicate_upload": True}
    other = await upload(p37, class_id, workbook([row("张三", fresh_id(p37))]))
    assert other.status_code == 409
    assert other.json()["type"] == "urn:xueji:problem:class-already-imported"
    assert len(await _students_in(p37, class_id)) == 2


async def test_import__failed_rows_come_back_with_reasons_and_are_imported_after_fixing(
    p37: Province,
) -> None:
    class_id = await new_class(p37)
    bad = fresh_id(p37)
    bad = bad[:17] + ("0" if bad[17] != "0" else "1")
    first = await upload(p37, class_id, workbook([row("赵好", fresh_id(p37)), row("钱错", bad)]))
    import_id = first.json()["id"]
    await finished(p37, import_id)

    response = await p37.client.get(
        f"/api/v1/registrations/imports/{import_id}/failed-rows.xlsx", headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[-2:] == ["原行号", "错误原因"]
    [failed] = list(sheet.iter_rows(min_row=2, values_only=True))
    assert failed[0] == "钱错" and failed[-2] == 3 and "校验位" in str(failed[-1])

    sheet.cell(row=2, column=header.index("身份证号") + 1, value=fresh_id(p37))  # the fix
    fixed = io.BytesIO()
    book.save(fixed)
    retry = await upload(p37, class_id, fixed.getvalue(), name="fixed.xlsx")
    assert retry.status_code == 202, retry.text
    progress = await finished(p37, retry.json()["id"])
    assert (progress["kind"], progress["retry_of"], progress["registered"]) == ("retry", import_id, 1)
    assert sorted(s.name for s in await _students_in(p37, class_id)) == ["赵好", "钱错"]


async def test_import__bad_files_are_refused_naming_the_field(p37: Province) -> None:
    class_id = await new_class(p37)
    not_xlsx = await upload(p37, class_id, b"name,id\n")
    assert not_xlsx.status_code == 422 and not_xlsx.json()["errors"][0]["field"] == "file"
    no_rows = await upload(p37, class_id, workbook([]))
    assert no_rows.status_code == 422 and "没有学生数据" in no_rows.json()["errors"][0]["reason_zh"]
    other_school = await upload(p37, "class-4141010001-2025-1", workbook([row("某", fresh_id(p37))]))
    assert other_school.status_code == 422 and other_school.json()["errors"][0]["field"] == "class_id"
    response = await p37.client.post(
        "/api/v1/registrations/imports",
        files={"file": ("a.xlsx", workbook([row("某", fresh_id(p37))]))},
        data={"class_id": class_id},
        headers=p37.auth(Role.SCHOOL_LEADER),
    )
    assert response.status_code == 403


async def test_import__progress_only_inside_the_jurisdiction(p37: Province) -> None:
    class_id = await new_class(p37)
    accepted = await upload(p37, class_id, workbook([row("孙一", fresh_id(p37))]))
    url = f"/api/v1/registrations/imports/{accepted.json()['id']}"
    assert (await p37.client.get(url, headers=p37.auth(Role.COUNTY))).status_code == 200
    assert (
        await p37.client.get(url, headers=p37.auth(Role.SCHOOL_REGISTRAR, "3737019999"))
    ).status_code == 404
    assert (await p37.client.get(url, headers=p37.auth(Role.COUNTY, "370103"))).status_code == 404
    assert (await p37.client.get(url)).status_code == 401
    await finished(p37, accepted.json()["id"])


async def test_import__registered_event_matches_the_row(p37: Province) -> None:
    class_id = await new_class(p37)
    number = fresh_id(p37)
    accepted = await upload(p37, class_id, workbook([row("周一", number)]))
    await finished(p37, accepted.json()["id"])
    [student] = await _students_in(p37, class_id)
    [event] = await p37.outbox_about(REGISTERED, student.id)
    data = envelope_of(event).data["student"]
    assert data["name"] == "周一" and data["student_number"] == "G" + number
    assert data["id_number_masked"] == number[:4] + "*" * 10 + number[-4:]
    assert data["class_id"] == class_id


async def test_import__the_same_file_sent_twice_at_once_is_one_import(p37: Province) -> None:
    class_id = await new_class(p37)
    content = workbook([row("吴一", fresh_id(p37)), row("吴二", fresh_id(p37))])
    first, second = await asyncio.gather(upload(p37, class_id, content), upload(p37, class_id, content))
    assert (first.status_code, second.status_code) == (202, 202), (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    await finished(p37, first.json()["id"])
    assert len(await _students_in(p37, class_id)) == 2
