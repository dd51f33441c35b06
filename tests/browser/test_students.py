"""学生: the list's filters live in the URL (Back and reload keep them), a record shows its
history, an export is exactly the filtered list and needs a second user (双岗), and a registrar
of one school sees nothing of another's students however the URL is edited."""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Stack, accessible_in_both_languages, assert_accessible, sign_in

SCHOOL = "4141010001"
OTHER_SCHOOL = "4141020001"
CLASS = f"class-{SCHOOL}-2025-1"  # made by the demo scenario's class import
TAG_CHARACTERS = "春夏秋冬梅兰竹菊松柏桃李杏梨山川"


@dataclass(frozen=True)
class Made:
    tag: str  # part of every name, so the name filter selects exactly these students
    names: list[str]
    ids: list[str]


@pytest.fixture
def made(stack: Stack) -> Made:
    tag = "".join(random.choice(TAG_CHARACTERS) for _ in range(4))
    names = [f"{tag}{suffix}" for suffix in "甲乙丙"]
    return Made(tag, names, [stack.register_student(name, school=SCHOOL).id for name in names])


def test_filters_live_in_the_url_and_survive_back_and_reload(stack: Stack, page: Page, made: Made) -> None:
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "school_registrar", SCHOOL))
    page.goto(f"{console}/students")
    page.get_by_label("学籍状态").select_option("in_school")
    page.get_by_label("姓名", exact=True).fill(made.tag)
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/students\?status=in_school&name=[^&]+$"))  # no empty fields
    expect(page.locator("table.students tbody tr")).to_have_count(3)
    expect(page.get_by_role("navigation", name="分页")).to_contain_text("共 3 条")
    expect(page.get_by_role("link", name="导出（3 条）")).to_be_visible()
    filtered_url = page.url

    page.get_by_role("link", name=f"查看 {made.names[0]}").click()
    expect(page.get_by_role("heading", name=f"学籍档案：{made.names[0]}")).to_be_visible()
    history = page.locator("table.history")
    expect(history).to_contain_text("注册学籍")
    expect(history).to_contain_text("单个新增")

    for leave in (page.go_back, page.reload):
        leave()
        expect(page).to_have_url(filtered_url)
        expect(page.get_by_label("姓名", exact=True)).to_have_value(made.tag)
        expect(page.get_by_label("学籍状态")).to_have_value("in_school")
        expect(page.locator("table.students tbody tr")).to_have_count(3)
        shown = page.locator("table.students tbody tr td:nth-child(3)").all_inner_texts()
        assert sorted(shown) == sorted(made.names)

    accessible_in_both_languages(page, "students-list")
    page.get_by_role("link", name=f"查看 {made.names[0]}").click()
    accessible_in_both_languages(page, "students-record")
    page.goto(filtered_url)

    page.get_by_role("link", name="重置").click()
    expect(page.get_by_label("姓名", exact=True)).to_have_value("")


def test_an_export_is_the_filtered_list_after_a_second_user_approves(
    stack: Stack, page: Page, browser: Browser, made: Made
) -> None:
    console = stack.console("41")
    registrar = stack.account("41", "school_registrar", SCHOOL)
    sign_in(page, console, registrar)
    page.goto(f"{console}/students?name={made.tag}")
    page.get_by_role("link", name="导出（3 条）").click()
    expect(page.locator("#export-count")).to_have_text("3")
    assert_accessible(page)
    page.get_by_label("导出事由").fill("核对新生名单")
    page.get_by_role("button", name="提交导出申请（3 条）").click()
    expect(page.get_by_role("status")).to_contain_text("导出申请已提交")
    mine = page.locator("table[aria-labelledby=mine] tbody tr").filter(has_text=made.tag)
    expect(mine).to_contain_text("待审批")
    # The requester is not offered their own request to approve.
    expect(page.locator("table[aria-labelledby=to-approve]")).not_to_contain_text(made.tag)
    assert_accessible(page)

    # 双岗: the school's leader, a second user of the same school, approves.
    second = browser.new_context(locale="zh-CN")
    try:
        leader_page = second.new_page()
        sign_in(leader_page, console, stack.account("41", "school_leader", SCHOOL))
        leader_page.goto(f"{console}/students/exports")
        waiting = leader_page.locator("table[aria-labelledby=to-approve] tbody tr").filter(has_text=made.tag)
        expect(waiting).to_contain_text("3")
        assert_accessible(leader_page)
        waiting.get_by_role("button", name="批准").click()
        expect(leader_page.get_by_role("status")).to_contain_text("已批准导出申请")
        expect(leader_page.locator("table[aria-labelledby=to-approve]")).not_to_contain_text(made.tag)
    finally:
        second.close()

    page.reload()
    expect(mine).to_contain_text("已批准，可下载")
    with page.expect_download() as downloading:
        mine.get_by_role("link", name="下载（3 条）").click()
    content = downloading.value.path().read_bytes()
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert sheet is not None
    lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert f"姓名包含={made.tag}" in str(lines[0][0]) and "共 3 人" in str(lines[0][0])
    name_column = list(lines[1]).index("姓名")
    assert sorted(str(line[name_column]) for line in lines[2:]) == sorted(made.names)

    page.reload()
    expect(mine).to_contain_text("已下载")  # once only
    expect(mine.get_by_role("link")).to_have_count(0)


def test_a_registrar_of_another_school_sees_nothing_by_editing_the_url(
    stack: Stack, page: Page, made: Made
) -> None:
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "school_registrar", OTHER_SCHOOL))

    opened = page.goto(f"{console}/students/{made.ids[0]}")
    assert opened is not None and opened.status in (403, 404)
    expect(page.locator("main")).not_to_contain_text(made.tag)
    assert_accessible(page)

    for query in (f"scope={SCHOOL}", f"school={SCHOOL}", f"scope={SCHOOL}/{CLASS}", "scope=4101"):
        page.goto(f"{console}/students?{query}&name={made.tag}")
        expect(page.get_by_role("navigation", name="分页")).to_contain_text("共 0 条")
        expect(page.locator("main")).not_to_contain_text(made.tag)

    page.goto(f"{console}/students/exports/new?school={SCHOOL}&name={made.tag}")
    expect(page.locator("#export-count")).to_have_text("0")


def test_a_bureau_narrows_the_list_to_a_region_of_the_tree_and_exports_it(
    stack: Stack, page: Page, made: Made
) -> None:
    """The province picks a region in the tree: the list holds that region's students only (the
    search's ``region`` filter), and its export asks for exactly that list, whatever the number
    of schools in the region."""
    # The same tag in another city (4102).
    elsewhere = stack.register_student(f"{made.tag}丁", school=OTHER_SCHOOL).id
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "province"))
    page.goto(f"{console}/students?scope=4101&name={made.tag}")
    expect(page.locator("table.students tbody tr")).to_have_count(3)
    expect(page.locator("main")).not_to_contain_text(f"{made.tag}丁")
    page.goto(f"{console}/students?scope=4102&name={made.tag}")
    expect(page.locator("table.students tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name=f"查看 {made.tag}丁")).to_have_attribute(
        "href", f"/students/{elsewhere}"
    )
    page.goto(f"{console}/students?scope=4102&school={SCHOOL}&name={made.tag}")
    expect(page.get_by_role("navigation", name="分页")).to_contain_text("共 0 条")

    # The whole province: both schools, one list, one export of exactly it.
    page.goto(f"{console}/students?scope=41&name={made.tag}")
    expect(page.locator("table.students tbody tr")).to_have_count(4)
    page.get_by_role("link", name="导出（4 条）").click()
    expect(page).to_have_url(re.compile(r"/students/exports/new\?(.*&)?region=41(&|$)"))
    expect(page.locator("#export-count")).to_have_text("4")
    assert_accessible(page)
    page.goto(f"{console}/students?scope=4101&name={made.tag}")
    page.get_by_role("link", name="导出（3 条）").click()
    expect(page.locator("#export-count")).to_have_text("3")
    expect(page.locator("input[type=hidden][name=region]")).to_have_value("4101")
