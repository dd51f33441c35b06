"""A failed identity check (问题学籍) answered and decided on the console (seed 002): a student the
population registry does not know is registered with a temporary number; the school's registrar
finds the case in its problem-record queue and gives evidence with a file (a change without the
corrected number refused first); the county returns it once with an opinion, the school gives
evidence again (through the API, for brevity), the county confirms — the number becomes formal."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, FilePayload, Page, expect

from tests.browser.conftest import Registered, Stack, accessible_in_both_languages, sign_in

PROVINCE = "41"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EVIDENCE = FilePayload(name="户口本.png", mimeType="image/png", buffer=PNG)


def _case_of(stack: Stack, student: Registered) -> dict[str, Any]:
    """The identity case enrollment opened when it registered the student (the test's registry
    knows no random ID number)."""
    for _ in range(20):
        found = stack.api(
            "GET",
            PROVINCE,
            "enrollment",
            "/api/v1/problem-records",
            role="school_registrar",
            org=student.school,
            params={"kind": "identity_check_failed", "limit": 200},
        ).json()["items"]
        mine: list[dict[str, Any]] = [case for case in found if case["student_id"] == student.id]
        if mine:
            return mine[0]
        time.sleep(0.5)
    raise AssertionError(f"no identity case for {student.name}")


def _school_gives_evidence(stack: Stack, student: Registered, case_id: str, note: str) -> None:
    stack.api(
        "POST",
        PROVINCE,
        "enrollment",
        f"/api/v1/problem-records/{case_id}/actions",
        role="school_registrar",
        org=student.school,
        data={"choice": "evidence", "note": note},
        files={"evidence": ("户口本.png", PNG, "image/png")},
    )


def _open_case(page: Page, console: str, student: Registered) -> None:
    """From the problem-record queue's list of cases waiting for the signed-in unit."""
    page.goto(f"{console}/reviews?queue=problem_record")
    page.locator("tr").filter(has_text=student.name).get_by_role("link", name="去处理").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(student.name)


def _student_number(stack: Stack, student: Registered) -> str:
    record = stack.api(
        "GET", PROVINCE, "enrollment", f"/api/v1/students/{student.id}", role="school_registrar"
    )
    return str(record.json()["student_number"])


def test_the_county_returns_a_failed_identity_check_then_confirms_it_and_the_number_becomes_formal(
    stack: Stack, page: Page, browser: Browser
) -> None:
    student = stack.register_student("核验" + random.choice("甲乙丙丁戊己庚辛壬癸") + random.choice("明华强"))
    case = _case_of(stack, student)
    temporary = _student_number(stack, student)
    console = stack.console(PROVINCE)

    # The school answers on the console: a change without the corrected number is refused in
    # place, then evidence with its file.
    registrar_context = browser.new_context(locale="zh-CN")
    registrar = registrar_context.new_page()
    try:
        sign_in(registrar, console, stack.account(PROVINCE, "school_registrar", student.school))
        _open_case(registrar, console, student)
        registrar.get_by_label("变更：更正身份证件号（须审核）").check()
        registrar.get_by_label("证明材料（JPG 或 PNG，不超过 2 MB）").set_input_files(EVIDENCE)
        registrar.get_by_role("button", name="提交").click()
        expect(registrar.get_by_role("alert")).to_contain_text("变更后身份证件号")
        registrar.get_by_label("佐证：本校信息无误，提供证明材料").check()
        registrar.get_by_label("说明", exact=True).fill("户口本复印件")
        registrar.get_by_label("证明材料（JPG 或 PNG，不超过 2 MB）").set_input_files(EVIDENCE)
        registrar.get_by_role("button", name="提交").click()
        expect(registrar.get_by_role("status")).to_contain_text("佐证材料已提交")
        expect(registrar.locator("dl.record")).to_contain_text("待区县确认")
        expect(registrar.get_by_role("button", name="提交")).to_have_count(0)  # the county's turn
    finally:
        registrar_context.close()

    county = stack.account(PROVINCE, "county", stack.scenario.county_of(PROVINCE, student.school))
    sign_in(page, console, county)
    _open_case(page, console, student)
    expect(page.locator("dl.record")).to_contain_text("待区县确认")
    expect(page.locator("table")).to_contain_text("户口本复印件")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="证明材料").first.click()
    assert Path(downloading.value.path()).read_bytes() == PNG  # the school's file, as uploaded
    accessible_in_both_languages(page, "reviews-problem-record")

    page.get_by_label("处理意见").fill("复印件不清晰，请重新提供")
    page.get_by_role("button", name="退回学校").click()
    expect(page.get_by_role("status")).to_contain_text("已退回学校")
    expect(page.locator("dl.record")).to_contain_text("待学校处理")
    expect(page.get_by_role("button", name="确认身份")).to_have_count(0)  # the school's turn now
    assert _student_number(stack, student) == temporary

    _school_gives_evidence(stack, student, case["id"], "户口本原件扫描件")
    page.reload()
    page.get_by_role("button", name="确认身份").click()
    expect(page.get_by_role("status")).to_contain_text("已确认，学生将获得正式学籍号")
    expect(page.locator("dl.record")).to_contain_text("已解决")
    assert _student_number(stack, student) != temporary
