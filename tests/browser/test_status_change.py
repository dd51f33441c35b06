"""学籍异动 from a record (seed 004 art. 17–19): the school registrar opens a student's record,
asks for a change the student's status does not allow and reads the service's reason at the
field, then starts a suspension (休学) with an evidence file; the record says it waits for review
and the school leader finds it in the status-change review queue."""

from __future__ import annotations

import random
import re

from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.browser.conftest import Stack, accessible_in_both_languages, sign_in
from tests.browser.test_reviews import PDF

PROVINCE = "41"
SCHOOL = "4141010001"


def test_a_registrar_starts_a_suspension_from_the_record_and_the_leader_finds_it_to_review(
    stack: Stack, page: Page, browser: Browser
) -> None:
    console = stack.console(PROVINCE)
    name = "异动" + "".join(random.choices("春夏秋冬梅兰竹菊松柏山川江河", k=3))
    student = stack.register_student(name, province=PROVINCE, school=SCHOOL)
    sign_in(page, console, stack.account(PROVINCE, "school_registrar", SCHOOL))
    page.goto(f"{console}/students/{student.id}")
    page.get_by_role("link", name="办理学籍异动").click()
    expect(page.get_by_role("heading", name=f"办理学籍异动：{name}")).to_be_visible()
    accessible_in_both_languages(page, "students-status-change")

    # An in-school student cannot resume: the service's reason shows at the kind of change.
    page.get_by_label("异动类型").select_option("resume")
    page.get_by_label("异动原因").fill("复学")
    evidence: FilePayload = {"name": "证明.pdf", "mimeType": "application/pdf", "buffer": PDF}
    page.get_by_label(re.compile("证明材料")).set_input_files(files=[evidence])
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("p.field-error")).to_contain_text("不能办理复学")
    expect(page.get_by_label("异动原因")).to_have_value("复学")  # what was typed is kept

    page.get_by_label("异动类型").select_option("suspend")
    page.get_by_label("异动原因").fill("因病休学一年，附医院证明")
    page.get_by_label(re.compile("证明材料")).set_input_files(files=[evidence])
    page.get_by_role("button", name="提交审核").click()
    expect(page).to_have_url(re.compile(rf"/students/{student.id}\?done=status_change$"))
    expect(page.get_by_role("status")).to_contain_text("学籍异动申请已提交")

    # The school leader reviews status changes: the student is in that queue.
    context = browser.new_context(locale="zh-CN")
    reviewer = context.new_page()
    sign_in(reviewer, console, stack.account(PROVINCE, "school_leader", SCHOOL))
    reviewer.goto(f"{console}/reviews?queue=status_change")
    expect(reviewer.locator("tbody tr").filter(has_text=name)).to_have_count(1)
    context.close()
