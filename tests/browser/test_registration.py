"""学籍注册 in the console: a registrar imports a class workbook with bad rows, reads the per-row
problems, fixes them in the failed-rows workbook and uploads it again; a double click on 导入
starts one job; single entry shows the service's reason next to the field.

Each test opens a class of its own through enrollment's API and registers students with ID
numbers of its own, so it neither collides with other tests nor with the demo's data."""

from __future__ import annotations

import random
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from services.enrollment.imports.template import DATA_SHEET, filled_workbook
from shared.idnumber import make_resident_id
from tests.browser.conftest import (
    Stack,
    accessible_in_both_languages,
    assert_accessible,
    in_both_languages,
    sign_in,
)

COUNTY = "410102"  # the demo's county (郑州市中原区), where the registrar's school is
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Registrar:
    """The province 41 school registrar, through the API, for setting up and checking."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.school = stack.account("41", "school_registrar")["organisation"]

    def new_class(self) -> dict[str, Any]:
        """A class of this test's own, in the newest intake the demo registers into."""
        classes = self._call("GET", f"/api/v1/schools/{self.school}/classes")
        newest = max(classes, key=lambda c: c["grade"])
        created: dict[str, Any] = self._call(
            "POST",
            f"/api/v1/schools/{self.school}/classes",
            json={
                "name": f"浏览器测试班-{uuid.uuid4().hex[:8]}",
                "grade": newest["grade"],
                "major_code": newest["major_code"],
            },
        )
        return created

    def imports_of(self, class_id: str) -> list[dict[str, Any]]:
        listed = self._call("GET", "/api/v1/registrations/imports", params={"class_id": class_id})
        items: list[dict[str, Any]] = listed["items"]
        return items

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.stack.api(method, "41", "enrollment", path, role="school_registrar", **kwargs).json()


def fresh_id() -> str:
    """A valid resident ID number no one else uses (a random birthday and sequence of 2010, the
    age of the demo's intake)."""
    birth = date(2010, random.randint(1, 12), random.randint(1, 28))
    return make_resident_id(COUNTY, birth, random.randint(0, 999))


def mistyped(number: str) -> str:
    """The same number with a wrong check digit: the bad row a registrar mistypes."""
    return number[:17] + ("0" if number[17] != "0" else "1")


def row(name: str, number: str) -> dict[str, Any]:
    return {"姓名": name, "身份证号": number, "学制": 3, "学习形式": "全日制"}


@pytest.fixture
def registrar(stack: Stack) -> Registrar:
    return Registrar(stack)


def open_registration(page: Page, stack: Stack) -> None:
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "school_registrar"))
    page.goto(f"{console}/registration")
    expect(page.get_by_role("heading", name="学籍注册", exact=True)).to_be_visible()


def upload(page: Page, class_id: str, name: str, content: bytes) -> None:
    page.locator("#f-class_id").select_option(class_id)
    page.get_by_label("工作簿（.xlsx）").set_input_files({"name": name, "mimeType": XLSX, "buffer": content})


def fix_ids(workbook: Path, right: dict[str, str]) -> bytes:
    """Correct the ID numbers in the failed-rows workbook, as the registrar does in Excel."""
    book = load_workbook(workbook)
    sheet = book[DATA_SHEET]
    headers = [cell.value for cell in sheet[1]]
    name_column, id_column = headers.index("姓名") + 1, headers.index("身份证号") + 1
    fixed = 0
    for line in range(2, sheet.max_row + 1):
        name = sheet.cell(line, name_column).value
        if name in right:
            sheet.cell(line, id_column).value = right[str(name)]
            fixed += 1
    assert fixed == len(right), f"the failed-rows workbook holds {fixed} of the {len(right)} bad rows"
    fixed_path = workbook.with_name("fixed.xlsx")
    book.save(fixed_path)
    return fixed_path.read_bytes()


def test_a_registrar_fixes_the_failed_rows_and_imports_them(
    stack: Stack, page: Page, registrar: Registrar, tmp_path: Path
) -> None:
    klass = registrar.new_class()
    right = {"钱一鸣": fresh_id(), "孙二妹": fresh_id()}
    rows = [row("周三好", fresh_id()), row("吴四海", fresh_id())]
    rows += [row(name, mistyped(number)) for name, number in right.items()]
    open_registration(page, stack)
    accessible_in_both_languages(page, "registration-import")

    upload(page, klass["id"], "班级名单.xlsx", filled_workbook("resident_id", rows))
    page.get_by_role("button", name="导入", exact=True).click()

    # The progress fragment is polled until enrollment is done; then the per-row problems.
    expect(page.locator(".import-summary")).to_have_text("共 4 行：注册成功 2 行，失败 2 行")
    problems = page.locator("table.import-problems tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.first).to_contain_text("身份证号")
    expect(problems.first).to_contain_text("身份证号码校验位不正确")
    # The Excel row numbers of the two bad rows (row 1 holds the headers).
    expect(page.locator("table.import-problems tbody td:first-child")).to_have_text(["4", "5"])
    expect(page).to_have_url(
        f"{stack.console('41')}/registration/imports/{registrar.imports_of(klass['id'])[0]['id']}"
    )
    accessible_in_both_languages(page, "registration-problems")
    expect(problems.first).to_contain_text("身份证号码校验位不正确")

    with page.expect_download() as downloaded:
        page.get_by_role("link", name="下载失败行工作簿").click()
    saved = tmp_path / "failed-rows.xlsx"
    downloaded.value.save_as(saved)
    fixed = fix_ids(saved, right)

    page.get_by_label("工作簿（.xlsx）").set_input_files(
        {"name": "失败行-已修改.xlsx", "mimeType": XLSX, "buffer": fixed}
    )
    page.get_by_role("button", name="重新导入").click()
    expect(page.locator(".import-summary")).to_have_text("共 2 行：注册成功 2 行，失败 0 行")
    expect(page.get_by_text("全部数据行已注册。")).to_be_visible()

    retry, first = registrar.imports_of(klass["id"])  # newest first
    assert (first["kind"], first["failed"]) == ("class", 2)
    assert (retry["kind"], retry["retry_of"], retry["registered"], retry["failed"]) == (
        "retry",
        first["id"],
        2,
        0,
    )
    expect(page).to_have_url(f"{stack.console('41')}/registration/imports/{retry['id']}")


def test_the_template_is_the_enrollment_workbook(stack: Stack, page: Page, tmp_path: Path) -> None:
    open_registration(page, stack)
    with page.expect_download() as downloaded:
        page.get_by_role("link", name="下载模板：居民身份证").click()
    saved = tmp_path / "template.xlsx"
    downloaded.value.save_as(saved)
    headers = [cell.value for cell in load_workbook(saved)[DATA_SHEET][1]]
    assert {"姓名", "身份证号", "学制", "学习形式"} <= set(headers), headers


def test_a_double_click_on_import_starts_one_job(stack: Stack, page: Page, registrar: Registrar) -> None:
    klass = registrar.new_class()
    assert registrar.imports_of(klass["id"]) == []
    open_registration(page, stack)
    posts: list[str] = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and "/registration/imports" in r.url else None,
    )
    upload(page, klass["id"], "双击.xlsx", filled_workbook("resident_id", [row("郑五洲", fresh_id())]))

    page.get_by_role("button", name="导入", exact=True).dblclick()

    expect(page.locator(".import-summary")).to_have_text("共 1 行：注册成功 1 行，失败 0 行")
    expect(page.locator(".alert-error")).to_have_count(0)
    assert len(posts) == 1, posts
    assert len(registrar.imports_of(klass["id"])) == 1


def test_single_entry_shows_the_reason_next_to_the_id_number(
    stack: Stack, page: Page, registrar: Registrar
) -> None:
    klass = registrar.new_class()
    open_registration(page, stack)
    page.get_by_role("link", name="单个新增").click()
    expect(page.get_by_role("heading", name="单个新增", exact=True)).to_be_visible()
    bad_number = mistyped(fresh_id())

    def submit_a_bad_id_number() -> None:
        english = page.locator("html").get_attribute("lang") == "en"
        assert_accessible(page)
        page.locator("#f-name").fill("王六顺")
        page.locator("#f-id_number").fill(bad_number)
        page.locator("#f-class_id").select_option(klass["id"])
        page.locator("#single-entry button[type=submit]").click()
        reason = page.locator("#f-id_number ~ .field-error")
        expect(reason).to_have_text(
            "The ID number's check digit does not match; please check the number"
            if english
            else "身份证号码校验位不正确，请核对号码"
        )
        expect(page.locator("#f-id_number")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#f-name")).to_have_value("王六顺")  # what was typed stays
        assert_accessible(page)

    in_both_languages(page, submit_a_bad_id_number)
