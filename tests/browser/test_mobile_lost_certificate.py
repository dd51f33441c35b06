"""A lost certificate replaced by a 学历证明书 (seed 004 art. 19): the graduate reports it on the
phone page, the school's registrar rejects the first application with an opinion on the console,
the graduate reads it and applies again, the registrar issues the 学历证明书, and the graduate's
page shows its number beside the original, which can no longer be used.

The graduate is taken from the other end of the demo's class of 2023 than the verification-code
test's, whose certificate must stay valid."""

from __future__ import annotations

from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from tests.browser.conftest import Stack, assert_accessible, sign_in
from tests.browser.test_mobile import PHONE_SCREEN
from tests.browser.test_mobile_codes import PROVINCE, graduate

REPORT = "证书遗失？挂失并申请学历证明书"
APPLY = "提交学历证明书申请"


def _certificate(page: Page, number: str) -> Locator:
    return page.locator("section.certificate").filter(has_text=number)


def _apply(page: Page, number: str, statement: str) -> None:
    section = _certificate(page, number)
    section.get_by_text(REPORT).click()
    section.get_by_label("遗失情况说明").fill(statement)
    section.get_by_role("button", name=APPLY).click()


def _requests_row(page: Page, console: str, name: str) -> Locator:
    page.goto(f"{console}/certificates/requests?state=requested")
    return page.locator("tbody tr").filter(has_text=name)


def test_a_graduate_applies_is_rejected_with_a_reason_applies_again_and_gets_the_replacement(
    stack: Stack, page: Page, browser: Browser
) -> None:
    console = stack.console(PROVINCE)
    who = graduate(stack, from_the_end=True)
    page.set_viewport_size(PHONE_SCREEN)
    sign_in(page, console, who, student=True)
    page.goto(f"{console}/m/certificates")

    # An empty statement: the service's refusal shows at this certificate.
    _apply(page, who["number"], "")
    expect(_certificate(page, who["number"]).get_by_role("alert")).to_contain_text("statement")
    _apply(page, who["number"], "搬家时遗失")
    expect(page.get_by_role("status")).to_contain_text("学历证明书申请已提交")
    section = _certificate(page, who["number"])
    expect(section).to_contain_text("待处理")
    expect(section.get_by_text(REPORT)).to_have_count(0)  # one application at a time
    assert_accessible(page)

    registrar_context = browser.new_context(locale="zh-CN")
    registrar = registrar_context.new_page()
    try:
        sign_in(registrar, console, stack.account(PROVINCE, "school_registrar"))
        row = _requests_row(registrar, console, who["name"])
        expect(row).to_contain_text("搬家时遗失")
        row.get_by_role("button", name="驳回").click()
        expect(row).to_contain_text("驳回须填写意见")  # nothing sent without an opinion
        row.get_by_label(f"{who['name']} 的处理意见").fill("请写明遗失的时间和地点")
        row.get_by_role("button", name="驳回").click()
        expect(registrar.get_by_role("status")).to_contain_text("申请已驳回")

        page.reload()
        section = _certificate(page, who["number"])
        expect(section).to_contain_text("已驳回")
        expect(section).to_contain_text("请写明遗失的时间和地点")
        _apply(page, who["number"], "2026 年 10 月在郑州搬家时遗失")
        expect(_certificate(page, who["number"])).to_contain_text("待处理")

        row = _requests_row(registrar, console, who["name"])
        asked: list[str] = []

        def accept(dialog: Dialog) -> None:
            asked.append(dialog.message)
            dialog.accept()

        registrar.once("dialog", accept)
        row.get_by_role("button", name="出具").click()
        expect(registrar.get_by_role("status")).to_contain_text("学历证明书已出具")
        assert asked and who["name"] in asked[0]  # the confirmation names the graduate
    finally:
        registrar_context.close()

    page.reload()
    section = _certificate(page, who["number"])
    expect(section).to_contain_text("已出具")
    expect(section).to_contain_text("学历证明书编号")
    expect(section).to_contain_text("此证书已不在有效状态")  # the original is lost now
    replacement = (
        page.locator("section.certificate").filter(has_text="学历证明书").filter(has_not_text=who["number"])
    )
    expect(replacement).to_have_count(1)
    expect(replacement.get_by_role("button", name="生成查验码")).to_be_visible()
    assert_accessible(page)
