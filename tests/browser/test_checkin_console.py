"""Check-in (在籍核验) in the console: a bureau opens a round's statistics, clicks a number and
lands on the list behind it with as many rows as the number said (a county's numbers and 已完成
too); the filters survive a reload;
a school exports that list under dual post and finds the same students in the workbook; a
bureau publishes a round and sees the service's reason when a field is wrong."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from openpyxl import load_workbook
from playwright.sync_api import Browser, Dialog, Page, expect

from deploy.local.checkin_step import DEMO_PASSWORD
from tests.browser.conftest import Stack, accessible_in_both_languages, assert_accessible, sign_in


def _round_id(stack: Stack) -> str:
    return str(stack.report["check_in"]["round_id"])


def _all_numbers(page: Page) -> list[str]:
    """The masked student numbers of every page of the list, following 下一页."""
    numbers: list[str] = []
    while True:
        numbers += page.locator("table.checkin-list tbody tr td:nth-child(2)").all_inner_texts()
        following = page.locator("nav.pagination a[rel=next]")
        if not following.count():
            return sorted(numbers)
        following.click()
        page.wait_for_load_state()


def _total_shown(page: Page) -> int:
    """The "共 N 条" of the list's pagination."""
    text = page.locator("nav.pagination .total").inner_text()
    found = re.search(r"\d+", text)
    assert found, text
    return int(found.group())


def test_a_number_of_the_statistics_opens_its_list(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    round_id = _round_id(stack)
    sign_in(page, console, stack.account("41", "county"))
    page.goto(f"{console}/checkin/statistics?round={round_id}&by=school")
    expect(page.get_by_role("heading", name="学籍注册统计")).to_be_visible()
    expect(page.locator("#checkin-chart svg")).to_be_visible()  # ECharts drew the chart
    accessible_in_both_languages(page, "checkin-statistics")

    # The workbook holds the table's numbers: its total row's checked-in count.
    total_row = page.locator("table.statistics tr.total")
    checked_in_total = int(total_row.locator("a[href$='/completed']").inner_text())
    with page.expect_download() as download:
        page.get_by_role("link", name="导出统计表").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header, total = list(rows[1]), next(row for row in rows if "合计" in row)
    assert total[header.index("已核验人数")] == checked_in_total

    # The first school's 已核验 number: the completed list of that school. (Its 未完成 grows
    # whenever another test imports a class into the school; check-ins to the demo's round are
    # rarer, so this count holds between the two pages.)
    school_row = page.locator("table.statistics tbody tr").first
    number = school_row.locator("a[href*='/completed']").first
    count = int(number.get_attribute("data-count") or "-1")
    assert number.inner_text() == str(count) and count > 0
    href = number.get_attribute("href") or ""
    assert "result=" not in href
    school_code = parse_qs(urlsplit(href).query)["school_code"][0]
    number.click()
    expect(page).to_have_url(re.compile(rf"/checkin/rounds/{round_id}/completed\?school_code={school_code}$"))
    expect(page.get_by_role("heading", name=re.compile("已完成名单"))).to_be_visible()
    assert _total_shown(page) == count
    assert page.locator("table.checkin-list tbody tr td:nth-child(2)").count() == min(count, 50)
    # The chart's bars link the same way: the red 未完成 bar opens the incomplete list.
    page.go_back()
    page.locator("#checkin-chart path[fill='#cf1322']").first.click()
    expect(page).to_have_url(
        re.compile(rf"/checkin/rounds/{round_id}/incomplete\?school_code={school_code}$")
    )
    page.goto(f"{console}{href}")

    # The filter lives in the URL: a reload keeps it in the form and in the list.
    page.reload()
    expect(page.get_by_label("学校代码")).to_have_value(school_code)
    assert _total_shown(page) == count
    accessible_in_both_languages(page, "checkin-list")

    # A result column of the total row: the completed list with that result, the same count.
    page.goto(f"{console}/checkin/statistics?round={round_id}&by=grade")
    normal = page.locator("table.statistics tr.total a[href*='result=normal']")
    normal_count = int(normal.get_attribute("data-count") or "-1")
    normal.click()
    expect(page).to_have_url(re.compile(r"/completed\?result=normal"))
    expect(page.get_by_label("核验结果")).to_have_value("normal")
    assert _total_shown(page) == normal_count


def test_a_county_number_and_the_completed_number_open_their_lists(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    round_id = _round_id(stack)
    county = stack.account("41", "county")["organisation"]
    sign_in(page, console, stack.account("41", "city", county[:4]))
    page.goto(f"{console}/checkin/statistics?round={round_id}&by=county")
    row = page.locator(
        "table.statistics tbody tr", has=page.get_by_role("rowheader", name=county, exact=True)
    )

    # The county's 未完成: the incomplete list of that county, as many students as the number.
    incomplete = row.locator("a[href*='/incomplete']")
    count = int(incomplete.get_attribute("data-count") or "-1")
    assert count > 0 and incomplete.inner_text() == str(count)
    incomplete.click()
    expect(page).to_have_url(re.compile(rf"/checkin/rounds/{round_id}/incomplete\?county_code={county}$"))
    expect(page.get_by_label("县（区）")).to_have_value(county)
    assert _total_shown(page) == count

    # The county's 已完成 (正常 + 正在实习): the completed list with result=completed.
    page.go_back()
    completed = row.locator("a[href*='result=completed']")
    count = int(completed.get_attribute("data-count") or "-1")
    assert count > 0, "the demo's student checked in (正常)"
    completed.click()
    expect(page).to_have_url(
        re.compile(rf"/checkin/rounds/{round_id}/completed\?county_code={county}&result=completed$")
    )
    expect(page.get_by_label("核验结果")).to_have_value("completed")
    assert _total_shown(page) == count
    results = page.locator("table.checkin-list tbody tr td:nth-child(9)").all_inner_texts()
    assert results and set(results) <= {"正常", "正在实习"}
    page.reload()  # the filters live in the URL
    expect(page.get_by_label("县（区）")).to_have_value(county)
    assert _total_shown(page) == count
    accessible_in_both_languages(page)

    # The total row's 已完成 of the statistics page: every county's completed students.
    page.goto(f"{console}/checkin/statistics?round={round_id}&by=county")
    total = page.locator("table.statistics tr.total a[href*='result=completed']")
    count = int(total.get_attribute("data-count") or "-1")
    total.click()
    expect(page).to_have_url(re.compile(rf"/checkin/rounds/{round_id}/completed\?result=completed$"))
    assert _total_shown(page) == count


def test_a_school_exports_the_list_it_sees(stack: Stack, page: Page, browser: Browser) -> None:
    console = stack.console("41")
    round_id = _round_id(stack)
    registrar = stack.account("41", "school_registrar")
    sign_in(page, console, registrar)
    # The completed list changes only when someone checks in to the demo's round; the
    # incomplete one grows whenever another test imports a class into the school.
    page.goto(f"{console}/checkin/rounds/{round_id}/completed")
    page.get_by_label("核验结果").select_option("normal")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"result=normal"))
    shown = _total_shown(page)
    assert shown > 0, "the demo's student checked in"
    numbers = _all_numbers(page)
    assert len(numbers) == shown
    page.goto(f"{console}/checkin/rounds/{round_id}/completed?result=normal")
    reason = f"核对已完成名单 {datetime.now():%H%M%S%f}"
    page.get_by_label("导出事由").fill(reason)
    page.get_by_role("button", name=re.compile(rf"申请导出当前名单（{shown} 人")).click()
    expect(page.get_by_role("status")).to_contain_text("导出申请已提交")
    assert_accessible(page)

    # The school's second user approves, in a browser of their own.
    leader_context = browser.new_context(locale="zh-CN")
    try:
        leader_page = leader_context.new_page()
        sign_in(leader_page, console, stack.account("41", "school_leader", registrar["organisation"]))
        leader_page.goto(f"{console}/checkin/exports")
        row = leader_page.locator("tr", has_text=reason)
        asked: list[str] = []

        def dismiss(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.dismiss()

        # Cancelling the confirmation changes nothing; it names the requester and the count.
        leader_page.once("dialog", dismiss)
        row.get_by_role("button", name="批准").click()
        expect(leader_page.locator("tr", has_text=reason)).to_contain_text("待审批")
        assert asked and f"{shown} 人" in asked[0]
        leader_page.reload()
        expect(leader_page.locator("tr", has_text=reason)).to_contain_text("待审批")
        leader_page.once("dialog", lambda dialog: dialog.accept())
        row.get_by_role("button", name="批准").click()
        expect(leader_page.get_by_role("status")).to_contain_text("已批准导出")
    finally:
        leader_context.close()

    page.goto(f"{console}/checkin/exports")
    mine = page.locator("tr", has_text=reason)
    with page.expect_download() as download:
        mine.get_by_role("link", name="下载").click()
    sheet = load_workbook(io.BytesIO(download.value.path().read_bytes())).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert f"共 {shown} 条" in str(rows[0][0])
    assert rows[1][1] == "学籍号"
    assert sorted(str(row[1]) for row in rows[2:]) == numbers


def test_a_bureau_publishes_a_round_and_sees_a_wrong_field(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "county"))
    page.goto(f"{console}/checkin")
    start = datetime.now() + timedelta(days=3)
    name = f"浏览器测试点名核验 {start:%m%d%H%M%S}"
    page.get_by_label("名称").fill(name)
    page.get_by_label("开始时间").fill(f"{start:%Y-%m-%dT%H:%M}")
    page.get_by_label("截止时间").fill(f"{start - timedelta(hours=1):%Y-%m-%dT%H:%M}")
    # An intake no student of the demo belongs to: the round calls nobody the other tests use.
    page.get_by_label(re.compile("^年级（入学年份")).fill(str(start.year - 5))
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator("#err-ends_at")).to_contain_text("截止时间须晚于开始时间")
    expect(page.get_by_label("名称")).to_have_value(name)
    assert_accessible(page)

    page.get_by_label("截止时间").fill(f"{start + timedelta(hours=2):%Y-%m-%dT%H:%M}")
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("核验轮次已发布")
    row = page.locator("tr", has_text=name)
    expect(row).to_contain_text("未开始")
    accessible_in_both_languages(page, "checkin-rounds")


def test_a_registrar_rejects_a_leave_with_an_opinion(stack: Stack, page: Page) -> None:
    # The demo's activated student asks for a day off a month ahead (the demo's round is today).
    username = json.loads((stack.deployment.home / "demo-student-41.json").read_text())["username"]
    student = {"username": username, "password": DEMO_PASSWORD}
    day = (datetime.now() + timedelta(days=30)).date().isoformat()
    reason = f"家中有事 {datetime.now():%H%M%S%f}"
    leave = {"starts_on": day, "ends_on": day, "reason": reason}
    asked = stack.api("POST", "41", "checkin", "/api/v1/leaves", account=student, json=leave, expect=201)
    leave_id = asked.json()["id"]

    console = stack.console("41")
    sign_in(page, console, stack.account("41", "school_registrar"))
    page.goto(f"{console}/checkin/leaves?state=requested")
    row = page.locator("tr", has_text=reason)
    expect(row).to_contain_text("待审批")
    assert_accessible(page)
    row.get_by_role("textbox").fill("请补充证明材料")
    row.get_by_role("button", name="驳回").click()
    expect(page.get_by_role("status")).to_contain_text("已驳回请假")
    page.goto(f"{console}/checkin/leaves?state=rejected")
    expect(page.locator("tr", has_text=reason)).to_contain_text("请补充证明材料")
    expect(page.get_by_label("状态")).to_have_value("rejected")
    accessible_in_both_languages(page)

    decided = stack.api("GET", "41", "checkin", f"/api/v1/leaves/{leave_id}", role="school_registrar").json()
    assert (decided["state"], decided["opinion"]) == ("rejected", "请补充证明材料")


def test_another_school_sees_nothing_of_the_list_by_editing_the_url(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    demo_school = stack.account("41", "school_registrar")["organisation"]
    other = next(
        account
        for account in stack.accounts
        if account["province"] == "41"
        and account["role"] == "school_registrar"
        and account["organisation"] != demo_school
    )
    sign_in(page, console, other)
    page.goto(f"{console}/checkin/rounds/{_round_id(stack)}/incomplete?school_code={demo_school}")
    expect(page.get_by_label("学校代码")).to_have_value(demo_school)
    assert _total_shown(page) == 0
    expect(page.locator("table.checkin-list tbody")).to_contain_text("没有符合条件的学生")


def test_the_eligible_number_opens_its_list_and_its_export(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    round_id = _round_id(stack)
    county = stack.account("41", "county")["organisation"]
    sign_in(page, console, stack.account("41", "county"))
    page.goto(f"{console}/checkin/statistics?round={round_id}&by=county")
    row = page.locator(
        "table.statistics tbody tr", has=page.get_by_role("rowheader", name=county, exact=True)
    )

    # The county's 应核验: the eligible list of that county, as many students as the number.
    eligible = row.locator("a[href*='/eligible']")
    count = int(eligible.get_attribute("data-count") or "-1")
    assert count > 0 and eligible.inner_text() == str(count)
    eligible.click()
    expect(page).to_have_url(re.compile(rf"/checkin/rounds/{round_id}/eligible\?county_code={county}$"))
    expect(page.get_by_role("heading", name=re.compile("应核验名单"))).to_be_visible()
    assert _total_shown(page) == count
    # Its export asks for exactly this list: the button names the same count.
    expect(page.get_by_role("button", name=re.compile(rf"（{count} 人，"))).to_be_visible()
    accessible_in_both_languages(page, "checkin-eligible")

    # The total row's 应核验: every student of the county's jurisdiction the round calls.
    page.goto(f"{console}/checkin/statistics?round={round_id}&by=county")
    total = page.locator("table.statistics tr.total a[href*='/eligible']")
    count = int(total.get_attribute("data-count") or "-1")
    total.click()
    expect(page).to_have_url(re.compile(rf"/checkin/rounds/{round_id}/eligible$"))
    assert _total_shown(page) == count
