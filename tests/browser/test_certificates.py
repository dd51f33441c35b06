"""The certificate (毕业) screens and the public verification page, as people use them: a registrar
reads the pre-graduate list with each student's blocking reasons, prints a batch of the demo's
issued certificates and downloads the printer's file; a county officer opens a graduation list
and backs out of a rollback; anyone verifies a certificate on the public page without signing in.

The demo scenario (and the suite's fresh stack, which runs the same scenario) graduated a class
of school 4141010001: ``report["graduation"]`` names its list and certificates.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Dialog, Page, expect

from deploy.local.graduation_step import GRADUATING_YEAR
from tests.browser.conftest import Stack, accessible_in_both_languages, sign_in

SCHOOL = "4141010001"
PRINT_SECONDS = 180_000  # ms: printing renders each certificate with Typst


def _api(stack: Stack, role: str, path: str, params: dict[str, Any] | None = None) -> Any:
    return stack.api("GET", "41", "certificates", path, role=role, params=params).json()


def _blocked_student(stack: Stack) -> tuple[int, dict[str, Any]]:
    """A year and a student of the school that certificates says cannot graduate yet."""
    for year in range(GRADUATING_YEAR, GRADUATING_YEAR + 4):
        found = _api(
            stack,
            "school_registrar",
            "/api/v1/pre-graduates",
            {"school_code": SCHOOL, "year": year, "limit": 50},
        )
        for item in found["items"]:
            if item["blocks"]:
                return year, item
    raise AssertionError("no pre-graduate with a blocking reason in the demo's school")


def test_the_pre_graduate_list_shows_each_students_blocking_reasons(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    year, student = _blocked_student(stack)
    sign_in(page, console, stack.account("41", "school_registrar", SCHOOL))
    page.goto(f"{console}/certificates")
    page.get_by_label("毕业年份").fill(str(year))
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(f"{console}/certificates?year={year}")
    row = page.get_by_role("row").filter(has_text=student["name"]).first
    for block in student["blocks"]:
        expect(row).to_contain_text(block["reason_zh"])
    expect(row).to_contain_text("不能毕业")
    # A blocked student cannot be ticked for the graduation list.
    expect(row.get_by_role("checkbox")).to_have_count(0)
    page.reload()
    expect(page.get_by_label("毕业年份")).to_have_value(str(year))
    accessible_in_both_languages(page, "certificates-pregraduates")
    page.get_by_role("link", name="English").first.click()
    row = page.get_by_role("row").filter(has_text=student["name"]).first
    expect(row).to_contain_text(student["blocks"][0]["reason"])
    page.get_by_role("link", name="中文").first.click()


def _valid_certificates(stack: Stack) -> list[dict[str, Any]]:
    """The school's valid certificates of the year (what an issue batch prints); the demo's
    first, so the public check uses a certificate the scenario made."""
    found = _api(
        stack,
        "school_registrar",
        "/api/v1/certificates",
        {"school": SCHOOL, "year": GRADUATING_YEAR, "status": "valid"},
    )
    demo_numbers = [c["number"] for c in stack.report["graduation"]["certificates"]]
    items: list[dict[str, Any]] = found["items"]
    return sorted(items, key=lambda c: (c["number"] not in demo_numbers, c["number"]))


def _batch_count(stack: Stack) -> int:
    return len(_api(stack, "school_registrar", "/api/v1/print-batches", {"graduating_year": GRADUATING_YEAR}))


def test_a_batch_of_certificates_is_printed_and_its_printer_file_downloaded(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    issued = _valid_certificates(stack)
    sign_in(page, console, stack.account("41", "school_registrar", SCHOOL))
    page.goto(f"{console}/certificates/batches")
    accessible_in_both_languages(page)
    before = _batch_count(stack)
    expect(page.get_by_label("打印范围（学校标识码或行政区划代码）")).to_have_value(SCHOOL)
    page.get_by_label("毕业年份", exact=True).first.fill(str(GRADUATING_YEAR))
    page.get_by_label("打印类型").select_option("issue")
    # A double click starts one batch: the button disables and the form's key is sent twice.
    page.get_by_role("button", name="开始打印").dblclick()
    page.wait_for_url(lambda url: "/certificates/batches/" in url)
    expect(page.get_by_role("link", name="下载打印机文件（PDF）")).to_be_visible(timeout=PRINT_SECONDS)
    expect(page.get_by_role("status").filter(has_text="已完成")).to_contain_text(
        f"{len(issued)} / {len(issued)} (100%)"
    )
    assert _batch_count(stack) == before + 1
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载打印机文件（PDF）").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    path = download.path()
    assert path.read_bytes().startswith(b"%PDF")
    # Each student's own file of the batch, named by its certificate number.
    name = issued[0]["name"]
    with page.expect_download() as student_info:
        page.get_by_role("link", name=f"下载 {name}").first.click()
    assert student_info.value.suggested_filename == f"{issued[0]['number']}.pdf"
    assert student_info.value.path().read_bytes().startswith(b"%PDF")
    accessible_in_both_languages(page, "certificates-batch")


def test_a_certificate_is_verified_on_the_public_page_without_signing_in(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    certificate = _valid_certificates(stack)[0]
    page.goto(f"{console}/verify")
    assert "/signin" not in page.url
    page.get_by_label("证书编号").fill(certificate["number"])
    page.get_by_label("持证人姓名").fill(certificate["name"])
    page.get_by_role("button", name="查验", exact=True).click()
    answer = page.get_by_role("status")
    expect(answer).to_contain_text("该证书真实有效。")
    expect(answer).to_contain_text(certificate["name"])
    expect(answer).to_contain_text("**********")  # the ID number, masked by the service
    accessible_in_both_languages(page, "verify")
    page.get_by_label("证书编号").fill(certificate["number"])
    page.get_by_label("持证人姓名").fill("不是本人")
    page.get_by_role("button", name="查验", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("未查到与该编号和姓名相符的证书。")
    expect(page.get_by_role("status")).not_to_contain_text(certificate["number"])


def test_graduation_lists_and_a_cancelled_rollback_change_nothing(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    graduation = stack.report["graduation"]
    valid = {c["id"] for c in _valid_certificates(stack)}
    certificate = next(c for c in graduation["certificates"] if c["id"] in valid)
    sign_in(page, console, stack.account("41", "county"))
    page.goto(f"{console}/certificates/lists?school={SCHOOL}&year={GRADUATING_YEAR}")
    accessible_in_both_languages(page)
    page.locator(f"a[href='/certificates/lists/{graduation['list_id']}']").click()
    expect(page.get_by_role("row").filter(has_text=certificate["name"])).to_contain_text("已发证")
    accessible_in_both_languages(page)
    with page.expect_download() as graduates:
        page.get_by_role("link", name="下载毕业生名册（PDF，盖章存档）").click()
    assert graduates.value.path().read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name=f"回退 {certificate['name']} 的毕业").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(certificate["name"])
    expect(page.locator("dl.record")).to_contain_text(certificate["number"][:4])
    accessible_in_both_languages(page)
    page.get_by_label("回退原因").fill("测试：取消不应回退")
    # Checked before clicking: without its confirmation the click would void the certificate.
    form = page.locator("form[hx-post*='/rollback/']")
    expect(form).to_have_attribute("hx-confirm", re.compile(certificate["name"]))
    asked: list[str] = []

    def cancel(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    page.get_by_role("button", name=f"确认回退 {certificate['name']} 的毕业").click()
    expect(page.get_by_role("button", name=f"确认回退 {certificate['name']} 的毕业")).to_be_enabled()
    assert asked and certificate["name"] in asked[0]
    page.get_by_role("link", name="取消").click()
    expect(page).to_have_url(f"{console}/certificates/lists/{graduation['list_id']}")
    found = _api(stack, "county", f"/api/v1/certificates/{certificate['id']}")
    assert found["status"] == "valid"
    page.goto(f"{console}/certificates/requests")
    accessible_in_both_languages(page)
