"""学生账号管理: the demo class's activation and face-capture numbers as identity counts them, the
class filter kept in the URL, and the export of exactly the filtered list."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, accessible_in_both_languages, sign_in

SCHOOL = "4141010001"
PAGE_SIZE = 50  # rows per page of the accounts list


def identity_statistics(stack: Stack, class_id: str, **filters: str) -> dict[str, Any]:
    """Identity's own count for the class (an empty dict: no student matches)."""
    rows = stack.api(
        "GET",
        "41",
        "identity",
        "/api/v1/student-accounts/statistics",
        role="school_registrar",
        org=SCHOOL,
        params={"class_id": class_id, **filters},
    ).json()
    assert len(rows) <= 1, rows
    found: dict[str, Any] = rows[0] if rows else {}
    return found


def test_the_demo_class_shows_its_activation_and_the_export_is_the_filtered_list(
    stack: Stack, page: Page
) -> None:
    console = stack.console("41")
    class_id = stack.report["class_import"]["progress"]["class_id"]
    counted = identity_statistics(stack, class_id)
    assert counted["students"] > 0

    sign_in(page, console, stack.account("41", "school_registrar", SCHOOL))
    page.goto(f"{console}/accounts")
    page.get_by_label("班级", exact=True).select_option(class_id)
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(f"{console}/accounts?class_id={class_id}&status=&face=&search=")

    statistics = page.get_by_role("table", name="按班级统计")
    row = statistics.locator("tbody tr")
    expect(row).to_have_count(1)
    cells = row.locator("td")
    expect(cells.nth(2)).to_have_text(str(counted["students"]))
    expect(cells.nth(3)).to_have_text(str(counted["activated"]))
    expect(cells.nth(5)).to_have_text(str(counted["face_captured"]))
    listed = page.get_by_role("table", name="学生账号").locator("tbody tr")
    expect(listed).to_have_count(min(counted["students"], PAGE_SIZE))
    expect(page.get_by_role("table", name="学生账号")).to_contain_text(
        "已激活" if counted["activated"] else "未激活"
    )

    # Formal student numbers are "G" + the ID number: never shown whole.
    assert not re.search(r"G[0-9]{17}[0-9X]", page.locator("main").inner_text())

    # Reload keeps the filter (it lives in the URL).
    page.reload()
    expect(page.get_by_label("班级", exact=True)).to_have_value(class_id)

    export = page.get_by_role("link", name=f"导出（{counted['students']} 条）")
    with page.expect_download() as download_info:
        export.click()
    # The download's temporary name has no .xlsx suffix, which openpyxl would refuse.
    workbook = load_workbook(io.BytesIO(download_info.value.path().read_bytes()), read_only=True)
    data_rows = [r for r in workbook.active.iter_rows(min_row=2, values_only=True) if any(r)]
    assert len(data_rows) == counted["students"]
    assert {r[3] for r in data_rows} == {class_id}
    assert sum(1 for r in data_rows if r[4] == "active") == counted["activated"]

    # A state filter narrows list and statistics alike.
    page.get_by_label("账号状态").select_option("not_activated")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(f"{console}/accounts?class_id={class_id}&status=not_activated&face=&search=")
    waiting = identity_statistics(stack, class_id, status="not_activated").get("students", 0)
    listed_now = page.get_by_role("table", name="学生账号")
    if waiting:
        expect(listed_now.locator("tbody tr")).to_have_count(min(waiting, PAGE_SIZE))
        expect(listed_now).not_to_contain_text("已激活")
    else:
        expect(listed_now).to_contain_text("没有符合条件的学生账号")
    page.goto(f"{console}/accounts?class_id={class_id}")

    accessible_in_both_languages(page, "accounts")
