"""学籍异动 and 关键数据变更 from a record (seed 004 art. 17–19): the school registrar opens a
student's record, asks for a change the student's status does not allow and reads the service's
reason at the field, then starts a suspension (休学) with an evidence file; a name correction for
the same student waits (one change under review at a time); another student's corrected name is
proposed after a mistyped ID number is refused at its field; the record says each waits for
review and the school leader finds them in the status-change and key-data review queues."""

from __future__ import annotations

import random
import re

from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.browser.conftest import Stack, accessible_in_both_languages, sign_in
from tests.browser.test_reviews import PDF

PROVINCE = "41"
SCHOOL = "4141010001"


def _propose_key_data(page: Page, new_name: str, evidence: FilePayload) -> None:
    page.get_by_label("新姓名").fill(new_name)
    page.get_by_label("变更原因").fill("户口本姓名为两字，入学登记有误")
    page.get_by_label(re.compile("证明材料")).set_input_files(files=[evidence])
    page.get_by_role("button", name="提交审核").click()


def test_a_registrar_starts_a_suspension_and_a_name_correction_and_the_leader_finds_them_to_review(
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
    # Only the fields of the chosen kind show: coming back may join another class, nothing else.
    expect(page.get_by_label(re.compile("新班级"))).to_be_visible()
    expect(page.get_by_label(re.compile("新专业"))).to_be_hidden()
    page.get_by_label("异动原因").fill("复学")
    evidence: FilePayload = {"name": "证明.pdf", "mimeType": "application/pdf", "buffer": PDF}
    page.get_by_label(re.compile("证明材料")).set_input_files(files=[evidence])
    page.get_by_role("button", name="提交审核").click()
    expect(page.locator("p.field-error")).to_contain_text("不能办理复学")
    expect(page.get_by_label("异动原因")).to_have_value("复学")  # what was typed is kept

    page.get_by_label("异动类型").select_option("suspend")
    expect(page.get_by_role("group", name="按异动类型填写")).to_be_hidden()  # a suspension takes none
    page.get_by_label("异动原因").fill("因病休学一年，附医院证明")
    page.get_by_label(re.compile("证明材料")).set_input_files(files=[evidence])
    page.get_by_role("button", name="提交审核").click()
    expect(page).to_have_url(re.compile(rf"/students/{student.id}\?done=status_change$"))
    expect(page.get_by_role("status")).to_contain_text("学籍异动申请已提交")

    # One change of a record under review at a time: a name correction waits for the suspension.
    page.get_by_role("link", name="关键数据变更").click()
    _propose_key_data(page, name[:-1], evidence)
    expect(page.get_by_role("alert")).to_contain_text("该学生已有未办结的变更申请")

    # Another student's corrected name; a mistyped new ID number is refused at its field first.
    other_name = "更正" + "".join(random.choices("春夏秋冬梅兰竹菊松柏山川江河", k=3))
    other = stack.register_student(other_name, province=PROVINCE, school=SCHOOL)
    page.goto(f"{console}/students/{other.id}")
    page.get_by_role("link", name="关键数据变更").click()
    expect(page.get_by_role("heading", name=f"关键数据变更：{other_name}")).to_be_visible()
    accessible_in_both_languages(page, "students-key-data-change")
    page.get_by_label("新身份证件号").fill("41010220100101123")
    _propose_key_data(page, other_name[:-1], evidence)
    expect(page.locator("p.field-error#err-id_number")).to_be_visible()
    expect(page.get_by_label("新姓名")).to_have_value(other_name[:-1])  # what was typed is kept
    page.get_by_label("新身份证件号").fill("")
    _propose_key_data(page, other_name[:-1], evidence)
    expect(page).to_have_url(re.compile(rf"/students/{other.id}\?done=key_data_change$"))
    expect(page.get_by_role("status")).to_contain_text("关键数据变更已提交")

    # The school leader reviews both: the student is in each queue.
    context = browser.new_context(locale="zh-CN")
    reviewer = context.new_page()
    sign_in(reviewer, console, stack.account(PROVINCE, "school_leader", SCHOOL))
    for queue, who in (("status_change", name), ("key_data", other_name)):
        reviewer.goto(f"{console}/reviews?queue={queue}")
        # A new name is the old one without its last character: either finds the row.
        expect(reviewer.locator("tbody tr").filter(has_text=who[:-1])).to_have_count(1)
    context.close()
