"""Every page of the menu, for a school and for a bureau, in both languages: it answers (never a
5xx), and axe-core finds no serious or critical violation. And no page shows one school's students
to another school's registrar, whatever scope the URL asks for."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from deploy.local.class_workbook import demo_rows
from services.console.menu import MENU, STAFF
from shared.auth import Role
from tests.browser.conftest import Stack, assert_accessible, sign_in

# The menu's pages, and pages reached by a page's own tabs rather than by the menu.
TAB_PAGES = {("/checkin/appeals/prompts", STAFF)}
MENU_PATHS = sorted(
    {(item.href, frozenset(item.roles)) for section in MENU for item in section.items} | TAB_PAGES
)
OWN_SCHOOL = "4141010001"  # where the demo imported its class
OTHER_SCHOOL = "4141020001"


def _visit_all(page: Page, console: str, role: Role) -> list[str]:
    problems = []
    for href, roles in MENU_PATHS:
        if role not in roles:
            continue
        for language in ("zh", "en"):
            page.context.add_cookies([{"name": "xueji_lang", "value": language, "url": console}])
            response = page.goto(f"{console}{href}")
            assert response is not None
            if response.status >= 500:
                problems.append(f"{href} [{language}]: {response.status}")
                continue
            try:
                assert_accessible(page)
            except AssertionError as failure:
                problems.append(f"{href} [{language}]: {failure}")
    page.context.add_cookies([{"name": "xueji_lang", "value": "zh", "url": console}])
    return problems


@pytest.mark.parametrize(("role", "org"), [(Role.SCHOOL_REGISTRAR, OWN_SCHOOL), (Role.COUNTY, None)])
def test_every_menu_page_answers_and_is_accessible(
    stack: Stack, page: Page, role: Role, org: str | None
) -> None:
    console = stack.console("41")
    sign_in(page, console, stack.account("41", role.value, org))
    problems = _visit_all(page, console, role)
    assert not problems, "\n".join(problems)


def test_the_public_verification_page_is_accessible_without_signing_in(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    for language in ("zh", "en"):
        page.context.add_cookies([{"name": "xueji_lang", "value": language, "url": console}])
        response = page.goto(f"{console}/verify")
        assert response is not None and response.status == 200
        assert "/signin" not in page.url
        assert_accessible(page)


def test_no_page_shows_another_schools_students_whatever_the_url_asks(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    names = [str(row["姓名"]) for row in demo_rows()]
    sign_in(page, console, stack.account("41", "school_registrar", OTHER_SCHOOL))
    for href, roles in MENU_PATHS:
        if Role.SCHOOL_REGISTRAR not in roles:
            continue
        # The second asks for more than a registrar's view (``mine=1`` is a reviewer's queue).
        for query in (f"?scope={OWN_SCHOOL}", f"?school={OWN_SCHOOL}&scope={OWN_SCHOOL}&page=1&mine=1"):
            response = page.goto(f"{console}{href}{query}")
            assert response is not None and response.status < 500, f"{href}{query}: {response}"
            text = page.locator("main").inner_text()
            shown = [name for name in names if name in text]
            assert not shown, f"{href}{query} shows {shown}"
