"""A graduate's certificate verification code on the phone page (issue 9, point 3): the graduate
makes a code on /m/certificates, an employer in another browser, not signed in, verifies it on
the public /verify page, the graduate revokes it and the public page no longer accepts it.

The graduate is one of the demo's class of 2023 at school 4141010001 (step 9, deploy/local/
graduation_step.py), whose certificate the certificates service still holds valid (another test
may void one). Their accounts are opened unactivated, so the test activates one through identity's
API with the phone code from identity's log, as a student does on the phone; a later run finds it
active and signs in with the password this test set."""

from __future__ import annotations

import base64
import random
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import Browser, Page, expect

from deploy.local.class_workbook import graduating_rows
from deploy.local.graduation_step import GRADUATING_YEAR, INTAKE_YEAR
from tests.browser.conftest import Stack, accessible_in_both_languages, sign_in
from tests.browser.test_mobile import PHONE_SCREEN, phone_code

PROVINCE = "41"
SCHOOL = "4141010001"
CLASS_ID = f"class-{SCHOOL}-{INTAKE_YEAR}-1"
PASSWORD = "Graduate-code-2026"
VALID = "该证书真实有效。"
GONE = "该验证码已过期或已被撤销。"


def _activate(stack: Stack, name: str, id_number: str) -> str | None:
    """Activation as the phone page does it, through identity's API; the username, or None when
    identity finds no account awaiting activation for this graduate."""
    phone = f"138{random.randint(0, 99_999_999):08d}"
    asked = {"name": name, "id_number": id_number, "phone": phone}
    started = stack.api(
        "POST", PROVINCE, "identity", "/api/v1/activation/code", json=asked, expect=(202, 404)
    )
    if started.status_code == 404:
        return None
    device = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = {
        "ticket": started.json()["ticket"],
        "code": phone_code(stack, phone),
        "password": PASSWORD,
        "device_public_key": base64.b64encode(device).decode(),
    }
    finished = stack.api("POST", PROVINCE, "identity", "/api/v1/activation", json=body, expect=200)
    username: str = finished.json()["username"]
    return username


def _signs_in(stack: Stack, username: str) -> bool:
    credentials = {"username": username, "password": PASSWORD}
    answer = stack.api("POST", PROVINCE, "identity", "/api/v1/auth/token", data=credentials, expect=None)
    return answer.status_code == 200


def graduate(stack: Stack, *, from_the_end: bool = False) -> dict[str, str]:
    """A graduate with a valid certificate who can sign in: {username, password, number, name}.
    ``from_the_end`` looks from the other end of the class, so two tests do not take the same one
    (a test that has a 学历证明书 issued leaves the certificate lost)."""
    wanted = {"school": SCHOOL, "year": GRADUATING_YEAR, "status": "valid"}
    listed = stack.api(
        "GET",
        PROVINCE,
        "certificates",
        "/api/v1/certificates",
        role="school_registrar",
        params=wanted,
        expect=200,
    )
    valid = {c["student_id"]: c for c in listed.json()["items"] if c["kind"] == "graduation"}
    accounts = stack.api(
        "GET",
        PROVINCE,
        "identity",
        "/api/v1/student-accounts",
        role="school_registrar",
        params={"class_id": CLASS_ID},
        expect=200,
    )
    id_numbers = {row["姓名"]: row["身份证号"] for row in graduating_rows()}
    tried: list[str] = []
    for account in reversed(accounts.json()) if from_the_end else accounts.json():
        certificate = valid.get(account["student_id"])
        if certificate is None or account["name"] not in id_numbers:
            continue
        # A formal student number is "G" + the ID number (identity shows it masked).
        username: str | None = "G" + id_numbers[account["name"]]
        if account["status"] == "not_activated":
            username = _activate(stack, account["name"], id_numbers[account["name"]])
        if username and _signs_in(stack, username):
            return {
                "username": username,
                "password": PASSWORD,
                "number": certificate["number_grouped"],
                "name": account["name"],
            }
        tried.append(f"{account['name']} ({account['status']})")
    pytest.skip(
        f"no graduate of {CLASS_ID} with a valid certificate can sign in: tried {tried or 'none'} "
        f"(valid certificates: {len(valid)}); accounts activated elsewhere with another password"
    )


def test_a_graduate_makes_a_code_an_employer_verifies_it_then_it_is_revoked(
    stack: Stack, page: Page, browser: Browser
) -> None:
    console = stack.console(PROVINCE)
    who = graduate(stack)
    page.set_viewport_size(PHONE_SCREEN)
    sign_in(page, console, who, student=True)
    page.goto(f"{console}/m/certificates")
    section = page.locator("section.certificate").filter(has_text=who["number"])
    expect(section).to_be_visible()

    # A refusal of the service shows in place: 91 days is more than it allows. The browser's own
    # range check is taken off so the service is the one that answers.
    section.get_by_label("查验码有效天数（1–90 天）").evaluate("input => input.removeAttribute('max')")
    section.get_by_label("查验码有效天数（1–90 天）").fill("91")
    section.get_by_role("button", name="生成查验码").click()
    section = page.locator("section.certificate").filter(has_text=who["number"])
    expect(section.get_by_role("alert")).to_contain_text("valid_days")

    section.get_by_label("查验码有效天数（1–90 天）").fill("7")
    section.get_by_role("button", name="生成查验码").click()
    made = page.get_by_role("status")
    expect(made).to_contain_text("已生成查验码")
    grouped = re.search(r"[A-Z0-9]{4}(?:-[A-Z0-9]{4})+", made.inner_text())
    assert grouped is not None, made.inner_text()
    code = grouped.group(0)
    section = page.locator("section.certificate").filter(has_text=who["number"])
    card = section.locator("li").filter(has_text=code)
    expect(card).to_contain_text("可用")
    accessible_in_both_languages(page, "mobile-certificates")

    # The link opens the public page with the code filled in and answered.
    link = page.get_by_role("link", name=f"在查验页面查看 {code}")
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/verify?code=")

    employer = browser.new_context(locale="zh-CN")
    try:
        public = employer.new_page()
        public.goto(f"{console}{href}")
        expect(public.locator("#verify-verdict")).to_have_text(VALID)
        # And typed by hand, hyphens and all, as an employer copies it.
        public.goto(f"{console}/verify")
        public.get_by_label("验证码").fill(code)
        public.get_by_role("button", name="查验验证码").click()
        expect(public.locator("#verify-verdict")).to_have_text(VALID)

        # Cancelling the confirmation changes nothing; accepting it revokes the named code.
        revoke = page.get_by_role("button", name=f"撤销查验码 {code}")
        page.once("dialog", lambda dialog: dialog.dismiss())
        revoke.click()
        public.goto(f"{console}{href}")
        expect(public.locator("#verify-verdict")).to_have_text(VALID)
        expect(card).to_contain_text("可用")
        asked: list[str] = []

        def accept(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept()

        page.once("dialog", accept)
        page.get_by_role("button", name=f"撤销查验码 {code}").click()
        expect(page.get_by_role("status")).to_contain_text(f"查验码 {code} 已撤销")
        assert asked and code in asked[0], asked
        card = (
            page.locator("section.certificate")
            .filter(has_text=who["number"])
            .locator("li")
            .filter(has_text=code)
        )
        expect(card).to_contain_text("已被撤销")
        expect(page.get_by_role("button", name=f"撤销查验码 {code}")).to_have_count(0)

        public.goto(f"{console}{href}")
        expect(public.locator("#verify-verdict")).to_have_text(GONE)
    finally:
        employer.close()
