"""Miss prompts and appeals (seed 001 四) end to end: two students of a school miss two rounds in
a row, which prompts the school; one student reads the prompt on the phone page and appeals,
the school's registrar accepts on the console and the prompt is withdrawn; for the other, the
registrar appeals to the county bureau, which accepts it. The school's pending actions (待办) the
prompts opened are withdrawn with them.

The rounds are real: published through check-in's API to close a few seconds later, so the
service's own clock closes them, records the misses and raises the prompts. They call the 2024
intake of the second school, which the other browser tests do not check in."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import Stack, accessible_in_both_languages, sign_in
from tests.browser.test_mobile import PHONE_SCREEN, activate

PROVINCE = "41"
SCHOOL = "4141020001"
COUNTY = "410202"
INTAKE = 2024
ROUND_SECONDS = (15, 20)


def _student(stack: Stack, name: str) -> dict[str, str]:
    registered = stack.register_student(name, province=PROVINCE, school=SCHOOL, intake=INTAKE)
    phone = f"137{random.randint(0, 99_999_999):08d}"
    return {"id": registered.id, "name": name, "id_number": registered.id_number, "phone": phone}


def _short_rounds(stack: Stack) -> list[str]:
    """Two rounds of the school's 2024 intake that open now and close seconds apart."""
    now = datetime.now(UTC)
    names = []
    for number, seconds in enumerate(ROUND_SECONDS, start=1):
        name = f"未核验提醒测试 {now:%H%M%S} 第{number}次"
        body = {
            "name": name,
            "starts_at": now.isoformat(),
            "ends_at": (now + timedelta(seconds=seconds)).isoformat(),
            "grades": [INTAKE],
            "scope_code": SCHOOL,
        }
        stack.api("POST", PROVINCE, "checkin", "/api/v1/rounds", role="province", json=body, expect=201)
        names.append(name)
    return names


def _open_prompt(stack: Stack, student_id: str) -> Any:
    listed = stack.api(
        "GET",
        PROVINCE,
        "checkin",
        "/api/v1/miss-prompts",
        role="school_registrar",
        org=SCHOOL,
        params={"student_id": student_id, "state": "open"},
    ).json()
    return listed["items"][0] if listed["items"] else None


def _row(page: Page, table: str, name: str) -> Locator:
    return page.locator(f"table.{table} tbody tr").filter(has_text=name)


def test_missed_rounds_prompt_the_school_and_appeals_withdraw_the_prompts(
    stack: Stack, page: Page, browser: Browser
) -> None:
    console = stack.console(PROVINCE)
    # Names take no digits: a run's own pair of characters tells its students from earlier runs'.
    suffix = "".join(random.choices("春夏秋冬梅兰竹菊松柏山川江河", k=3))
    appealing, appealed_for = f"申诉甲{suffix}", f"申诉乙{suffix}"
    student = _student(stack, appealing)
    other = _student(stack, appealed_for)
    phone = browser.new_context(viewport=PHONE_SCREEN, is_mobile=True, has_touch=True, locale="zh-CN")
    mobile = phone.new_page()
    activate(mobile, stack, student)

    rounds = _short_rounds(stack)
    for who in (student["id"], other["id"]):
        stack.scenario.wait_for(
            f"the miss prompt of student {who}",
            partial(_open_prompt, stack, who),
            timeout=90,
        )

    # The student sees the prompt on the phone page's home and appeals against it.
    mobile.goto(f"{console}/m/")
    mobile.get_by_role("link", name=re.compile("条未核验提醒")).click()
    expect(mobile).to_have_url(re.compile(r"/m/appeals$"))
    prompt = mobile.locator("section.prompt")
    expect(prompt).to_contain_text("本学期连续 2 次未按时完成学籍核验")
    for name in rounds:
        expect(prompt).to_contain_text(name)
    accessible_in_both_languages(mobile, "mobile-appeals")
    prompt.get_by_label("申诉理由").fill("两次核验时在医院住院，有病历")
    prompt.get_by_role("button", name="对此提醒申诉").click()
    expect(mobile.get_by_role("status")).to_contain_text("申诉已提交")
    expect(mobile.locator("li.appeal").first).to_contain_text("待处理")

    # The school's registrar finds both prompts on the console, filtered by the tree's school,
    # and their pending actions (待办), due in five working days.
    sign_in(page, console, stack.account(PROVINCE, "school_registrar", SCHOOL))
    page.goto(f"{console}/students/pending?scope={SCHOOL}&kind=miss_threshold")
    for name in (appealing, appealed_for):
        expect(page.locator("table.pending tbody tr").filter(has_text=name)).to_contain_text("待办理")
    accessible_in_both_languages(page, "students-pending")
    page.goto(f"{console}/checkin/appeals/prompts?scope={SCHOOL}&state=open&name=申诉")
    for name in (appealing, appealed_for):
        row = _row(page, "prompts", name)
        expect(row).to_contain_text("本学期连续 2 次未按时完成学籍核验")
        expect(row).to_contain_text(rounds[0])
    accessible_in_both_languages(page, "checkin-prompts")
    page.reload()  # the filters live in the URL
    expect(page.get_by_label("姓名")).to_have_value("申诉")
    expect(page.get_by_label("状态")).to_have_value("open")

    # …appeals to the county for the student who has not appealed…
    row = _row(page, "prompts", appealed_for)
    row.get_by_label(f"代 {appealed_for} 申诉的理由").fill("学生随校外实训，学校已核实")
    row.get_by_role("button", name="向县级教育行政部门申诉").click()
    expect(page).to_have_url(re.compile(r"/checkin/appeals\?done=lodged$"))
    expect(page.get_by_role("status")).to_contain_text("申诉已提交")

    # …and accepts the student's own appeal with an opinion (the school decides a student's).
    page.goto(f"{console}/checkin/appeals?queue=1&name={appealing}")
    row = _row(page, "appeals", appealing)
    expect(row).to_contain_text("两次核验时在医院住院，有病历")
    expect(row).to_contain_text(rounds[1])
    accessible_in_both_languages(page, "checkin-appeals")
    row.get_by_label(f"{appealing} 的申诉处理意见").fill("已核实病历")
    row.get_by_role("button", name="采纳").click()
    expect(page.get_by_role("status")).to_contain_text("已采纳申诉")
    # The school's own appeal is not the school's to decide.
    page.goto(f"{console}/checkin/appeals?queue=1&name={appealed_for}")
    expect(_row(page, "appeals", appealed_for)).to_have_count(0)

    # The county bureau decides the school's appeal.
    county = browser.new_context(locale="zh-CN")
    bureau = county.new_page()
    sign_in(bureau, console, stack.account(PROVINCE, "county", COUNTY))
    bureau.goto(f"{console}/checkin/appeals?queue=1&name={appealed_for}")
    row = _row(bureau, "appeals", appealed_for)
    expect(row.locator("td").nth(3)).to_have_text("学校")  # the appellant
    row.get_by_label(f"{appealed_for} 的申诉处理意见").fill("情况属实，予以采纳")
    row.get_by_role("button", name="采纳").click()
    expect(bureau.get_by_role("status")).to_contain_text("已采纳申诉")
    county.close()

    # Both prompts are withdrawn; the student reads the decision and no prompt is left.
    page.goto(f"{console}/checkin/appeals/prompts?scope={SCHOOL}&name=申诉")
    for name in (appealing, appealed_for):
        expect(_row(page, "prompts", name)).to_contain_text("已撤销")
    assert _open_prompt(stack, student["id"]) is None and _open_prompt(stack, other["id"]) is None
    # Their pending actions are withdrawn with them (enrollment hears MissPromptWithdrawn); a
    # prompt links to its student's own.
    _row(page, "prompts", appealed_for).get_by_role("link", name="待办事项").click()
    expect(page.locator("table.pending tbody tr")).to_have_count(1)
    expect(page.locator("table.pending tbody tr")).to_contain_text(appealed_for)
    page.goto(f"{console}/students/pending?scope={SCHOOL}&state=withdrawn&kind=miss_threshold")
    for name in (appealing, appealed_for):
        expect(page.locator("table.pending tbody tr").filter(has_text=name)).to_contain_text("已撤回")
    mobile.goto(f"{console}/m/appeals")
    expect(mobile.locator("li.appeal").first).to_contain_text("已采纳")
    expect(mobile.locator("li.appeal").first).to_contain_text("已核实病历")
    expect(mobile.locator("section.prompt")).to_have_count(0)
    mobile.goto(f"{console}/m/")
    expect(mobile.get_by_role("link", name=re.compile("条未核验提醒"))).to_have_count(0)
    phone.close()
