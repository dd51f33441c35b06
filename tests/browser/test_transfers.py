"""Transfers (转学) as people do them in the console: the destination registrar looks a student of
another province up and applies; each reviewer of the chain, in both provinces, signs in and
approves at their step; the case is followed on its timeline until the record has moved. A
reviewer rejects with an opinion the applicant then reads; a cancel asks first, naming the student.

Each test registers its own students in 37 through the enrollment API (a random ID number), so
it runs on a fresh stack and beside other tests using the same demo stack.
"""

from __future__ import annotations

import io
import random
import re
import time
from collections.abc import Callable
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Dialog, Locator, Page, expect

from deploy.local.transfer_steps import handwritten_request_pdf
from tests.browser.conftest import (
    Registered,
    Stack,
    accessible_in_both_languages,
    assert_accessible,
    sign_in,
)

ORIGIN, DESTINATION = "37", "41"
# Moving a record crosses two provinces' message buses: generous, as on a loaded machine.
ASYNC_SECONDS = 90.0
# Who reviews at an organisation's level (deploy/local/transfer_steps.py): the school's leader in
# charge of records, else the bureau's account.
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍晨宇轩浩然欣怡梓涵诗雨子墨"
REVIEWER_ROLE = {"school": "school_leader", "county": "county", "city": "city", "province": "province"}


def unique_name(surname: str) -> str:
    """A name no other run is likely to have used: the tests find their student by it."""
    rng = random.SystemRandom()
    return surname + "".join(rng.choice(GIVEN) for _ in range(3))


def register_in_origin(stack: Stack, name: str, province: str = ORIGIN) -> Registered:
    """A new student of the province's first school (the origin's unless told), of its 2024
    intake."""
    return stack.register_student(name, province=province, intake=2024)


def apply_by_api(stack: Stack, student: Registered) -> str:
    """The destination registrar's application, for tests about what happens after it."""
    response = stack.api(
        "POST",
        DESTINATION,
        "transfer",
        "/api/v1/transfers",
        role="school_registrar",
        json={
            "kind": "cross_province",
            "student_number": student.number,
            "student_name": student.name,
            "origin_province": ORIGIN,
            "grade": 2024,
            "reason": "随父母迁居",
        },
        expect=201,
    )
    return str(response.json()["id"])


def case_in(stack: Stack, province: str, transfer_id: str) -> dict[str, Any]:
    path = f"/api/v1/transfers/{transfer_id}"
    return dict(stack.api("GET", province, "transfer", path, role="province").json())


def reviewer_of(stack: Stack, case: dict[str, Any], level: str) -> tuple[str, dict[str, str]]:
    """(province, account) of the person who reviews ``level`` of the case."""
    side, org_level = level.split("_", 1)
    province = str(case[f"{side}_province"])
    org = province if org_level == "province" else case[f"{side}_{org_level}"]
    return province, stack.account(province, REVIEWER_ROLE[org_level], org)


def reload_until(page: Page, shown: Callable[[], Locator], text: str | None = None) -> None:
    """For what another province or a background step does: reload until it shows (each look
    waits a few seconds through Playwright's own polling)."""
    deadline = time.monotonic() + ASYNC_SECONDS
    while True:
        try:
            if text is None:
                expect(shown()).to_be_visible(timeout=4000)
            else:
                expect(shown()).to_contain_text(text, timeout=4000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def sign_in_fresh(page: Page, console: str, account: dict[str, str]) -> None:
    page.context.clear_cookies()
    sign_in(page, console, account)


def test_a_cross_province_transfer_is_applied_for_approved_by_four_and_followed(
    stack: Stack, page: Page
) -> None:
    student = register_in_origin(stack, unique_name("韩"))
    console = stack.console(DESTINATION)
    sign_in_fresh(page, console, stack.account(DESTINATION, "school_registrar"))

    # 跨省转学申请: the look-up in the origin province first, then the application.
    page.goto(f"{console}/transfers/new")
    expect(page.get_by_role("heading", name="转学申请")).to_be_visible()
    accessible_in_both_languages(page)
    page.get_by_label("转出省份").select_option(ORIGIN)
    page.get_by_label("学生姓名").fill(student.name)
    page.get_by_label("全国学籍号").fill(student.number)
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#lookup-student")).to_contain_text(student.name, timeout=ASYNC_SECONDS * 1000)
    assert_accessible(page)
    page.get_by_label("转学原因").fill("随父母工作调动迁居郑州")
    page.get_by_role("button", name="提交跨省转学申请").click()
    page.wait_for_url(re.compile(r"/transfers/[0-9a-f-]{36}\?done=applied$"))
    expect(page.get_by_role("status").filter(has_text="转学申请已提交")).to_be_visible()
    transfer_id = page.url.split("/transfers/", 1)[1].split("?", 1)[0]
    expect(page.locator("#timeline")).to_contain_text("申请")

    chain = case_in(stack, DESTINATION, transfer_id)["chain"]
    assert len(chain) == 4, chain  # the default chain: both schools and both county bureaus
    for number, level in enumerate(chain, start=1):
        # The origin's school and county are known once the origin has checked the student.
        case = case_in(stack, DESTINATION, transfer_id)
        province, reviewer = reviewer_of(stack, case, level)
        reviewer_console = stack.console(province)
        sign_in_fresh(page, reviewer_console, reviewer)
        page.goto(f"{reviewer_console}/transfers/{transfer_id}")
        reload_until(page, lambda: page.get_by_role("button", name="同意", exact=True))
        if number == 1:
            accessible_in_both_languages(page)
        page.get_by_label("审核意见").fill(f"第{number}级同意")
        page.get_by_role("button", name="同意", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="已同意")).to_be_visible()
        expect(page.locator("#timeline")).to_contain_text(f"第{number}级同意")
        expect(page.locator("#timeline")).to_contain_text(reviewer["username"])

    # Followed on its timeline by the applicant until the record has moved (自动调档).
    sign_in_fresh(page, console, stack.account(DESTINATION, "school_registrar"))
    page.goto(f"{console}/transfers/{transfer_id}")
    reload_until(page, lambda: page.locator("#case-state"), "调档完毕")
    timeline = page.locator("#timeline")
    for number in range(1, 5):
        expect(timeline).to_contain_text(f"第{number}级同意")
    expect(timeline).to_contain_text(ORIGIN)
    accessible_in_both_languages(page, "transfers-timeline")

    # 跨省转学查询 with its filters in the URL, kept on reload.
    page.goto(f"{console}/transfers")
    page.get_by_label("学籍号").fill(student.number)
    page.get_by_label("状态").select_option("COMPLETED")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"student_number=.+&.*state=COMPLETED"))
    page.reload()
    expect(page.get_by_label("学籍号")).to_have_value(student.number)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("调档完毕")
    accessible_in_both_languages(page, "transfers-query")

    # The export is exactly this filtered list, under dual post: a second user of the school
    # approves, the requester downloads.
    reason = f"核对转学档案 {random.randint(1000, 9999)}"
    page.get_by_label("导出事由").fill(reason)
    page.get_by_role("button", name=re.compile("申请导出当前结果（1 条")).click()
    expect(page).to_have_url(re.compile(r"/transfers/exports$"))
    mine = page.locator("#mine + table tr", has_text=reason)
    expect(mine).to_contain_text("待审批")
    assert_accessible(page)
    sign_in_fresh(page, console, stack.account(DESTINATION, "school_leader"))
    page.goto(f"{console}/transfers/exports")
    page.locator("#to-approve + table tr", has_text=reason).get_by_role("button").click()
    expect(page.locator("#to-approve + table")).not_to_contain_text(reason)
    sign_in_fresh(page, console, stack.account(DESTINATION, "school_registrar"))
    page.goto(f"{console}/transfers/exports")
    with page.expect_download() as download:
        page.locator("#mine + table tr", has_text=reason).get_by_role("link", name="下载").click()
    path = download.value.path()
    sheet = load_workbook(io.BytesIO(path.read_bytes())).active
    assert sheet is not None
    names = [cell.value for row in sheet.iter_rows() for cell in row if cell.value == student.name]
    assert names == [student.name]


def test_a_reject_with_an_opinion_shows_on_the_timeline(stack: Stack, page: Page) -> None:
    student = register_in_origin(stack, unique_name("魏"))
    transfer_id = apply_by_api(stack, student)
    case = case_in(stack, DESTINATION, transfer_id)
    province, reviewer = reviewer_of(stack, case, case["chain"][0])
    console = stack.console(province)
    sign_in_fresh(page, console, reviewer)
    page.goto(f"{console}/transfers/queue")
    reload_until(page, lambda: page.get_by_role("link", name=f"办理 {student.name}"))
    assert_accessible(page)
    page.get_by_role("link", name=f"办理 {student.name}").click()
    expect(page.get_by_role("button", name="驳回", exact=True)).to_be_visible(timeout=ASYNC_SECONDS * 1000)
    page.get_by_label("驳回理由（必填）").fill("转入班级已满，材料不全")
    page.get_by_role("button", name="驳回", exact=True).click()
    expect(page.locator("#case-state")).to_contain_text("已驳回")
    expect(page.locator("#timeline")).to_contain_text("转入班级已满，材料不全")
    # The applicant reads the same opinion, in both provinces' copies.
    sign_in_fresh(page, stack.console(DESTINATION), stack.account(DESTINATION, "school_registrar"))
    page.goto(f"{stack.console(DESTINATION)}/transfers/{transfer_id}")
    expect(page.locator("#timeline")).to_contain_text("转入班级已满，材料不全")
    accessible_in_both_languages(page)


def test_cancel_asks_first_naming_the_student(stack: Stack, page: Page) -> None:
    student = register_in_origin(stack, unique_name("秦"))
    transfer_id = apply_by_api(stack, student)
    console = stack.console(DESTINATION)
    sign_in_fresh(page, console, stack.account(DESTINATION, "school_registrar"))
    page.goto(f"{console}/transfers/{transfer_id}")
    button = page.get_by_role("button", name=f"撤销 {student.name} 的转学申请")
    asked: list[str] = []

    def answer(dialog: Dialog, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    button.click()
    expect(button).to_be_enabled()
    page.reload()  # dismissed: nothing changed
    expect(page.locator("#case-state")).not_to_contain_text("已撤销")
    assert asked and student.name in asked[0]

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_label("撤销原因").fill("学生决定留在原校")
    page.get_by_role("button", name=f"撤销 {student.name} 的转学申请").click()
    expect(page.locator("#case-state")).to_contain_text("已撤销", timeout=ASYNC_SECONDS * 1000)
    expect(page.locator("#timeline")).to_contain_text("学生决定留在原校")


def test_an_in_province_transfer_is_applied_for_with_the_handwritten_request(
    stack: Stack, page: Page
) -> None:
    student = register_in_origin(stack, unique_name("冯"), DESTINATION)
    other_school = stack.account(DESTINATION, "school_registrar", "4141020001")["organisation"]
    console = stack.console(DESTINATION)
    sign_in_fresh(page, console, stack.account(DESTINATION, "school_registrar"))
    page.goto(f"{console}/transfers/new")
    page.get_by_role("link", name="省内转学").click()
    expect(page.get_by_label("转入学校代码")).to_be_visible()
    accessible_in_both_languages(page)
    page.get_by_label("学生姓名").fill(student.name)
    page.get_by_label("全国学籍号").fill(student.number)
    page.get_by_label("转入学校代码").fill(other_school)
    page.get_by_label("年级（入学年份）").fill("2024")
    page.get_by_label("转学原因").fill("家庭搬迁至开封市，就近入学")
    page.get_by_label(re.compile("学生本人书写的转学申请")).set_input_files(
        {"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": handwritten_request_pdf()}
    )
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/transfers/[0-9a-f-]{36}\?done=applied$"))
    expect(page.locator("#timeline")).to_contain_text("申请书.pdf")
    expect(page.locator("#case-state")).to_contain_text("待转出学校审核")
    assert_accessible(page)
    # Withdrawn again, so the student has no open case left behind.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"撤销 {student.name} 的转学申请").click()
    expect(page.locator("#case-state")).to_contain_text("已撤销")
