"""Signing in and out, the language switch, and the frame every page shares."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, assert_accessible, sign_in


def test_a_page_asks_for_sign_in_and_returns_there(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    page.goto(f"{console}/")
    expect(page).to_have_url(f"{console}/signin?next=/")
    assert_accessible(page)
    registrar = stack.account("41", "school_registrar")
    page.get_by_label("账号").fill(registrar["username"])
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, console, registrar)
    expect(page.get_by_role("heading", name="首页")).to_be_visible()
    expect(page.get_by_role("navigation", name="功能菜单")).to_contain_text("学籍注册")
    assert_accessible(page)


def test_english_is_the_second_language(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "county"))
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def _refresh_cookie(page: Page) -> str:
    values = [c.get("value", "") for c in page.context.cookies() if c.get("name") == "xueji_refresh"]
    assert len(values) == 1 and values[0], "the console keeps one refresh cookie"
    return values[0]


def _only_refresh_cookie(page: Page, console: str, value: str) -> None:
    page.context.clear_cookies()
    page.context.add_cookies([{"name": "xueji_refresh", "value": value, "url": console}])


def test_signing_out_ends_the_console_session(stack: Stack, page: Page) -> None:
    """Sign-out ends the session at identity too, not only in this browser: a refresh cookie
    copied before it (the current one, or one the console traded a minute ago) signs no one in."""
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "county"))
    traded = _refresh_cookie(page)
    # The refresh cookie alone is a credential: without an access token the console trades it.
    _only_refresh_cookie(page, console, traded)
    page.goto(f"{console}/")
    expect(page.get_by_role("heading", name="首页")).to_be_visible()
    current = _refresh_cookie(page)
    assert current != traded

    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url(f"{console}/signin")
    page.goto(f"{console}/")
    expect(page).to_have_url(f"{console}/signin?next=/")

    for copied in (current, traded):
        _only_refresh_cookie(page, console, copied)
        page.goto(f"{console}/")
        expect(page).to_have_url(f"{console}/signin?next=/")


def test_an_expired_access_token_is_traded_once_for_many_requests_at_once(stack: Stack, page: Page) -> None:
    """Identity ends a session whose refresh token comes back twice; a page firing several
    requests with an expired access token must not trip that."""
    console = stack.console("41")
    sign_in(page, console, stack.account("41", "county"))
    page.context.add_cookies([{"name": "xueji_access", "value": "not.a.token", "url": console}])
    landed = page.evaluate(
        "Promise.all([1, 2, 3, 4, 5].map(() => fetch('/', {credentials: 'same-origin'}).then(r => r.url)))"
    )
    assert landed == [f"{console}/"] * 5
    page.reload()
    expect(page.get_by_role("heading", name="首页")).to_be_visible()
