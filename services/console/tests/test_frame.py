"""The console's frame without any service behind it: where sign-in may send the browser back to,
which requests are refused as cross-site, the headers every answer carries, the asset allow-list,
and the jurisdiction tree's shape."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from hypothesis import given
from hypothesis import strategies as st

from services.console.app import create_app
from services.console.menu import current_href
from services.console.session import TRADED_ANSWER_SECONDS, Sessions, Tokens
from services.console.settings import ConsoleSettings
from services.console.signin import local_path
from services.console.tree import _region_children
from services.console.upstream import Upstream
from shared.auth import JwksVerifier


@given(st.text(max_size=40))
def test_sign_in_only_returns_to_a_path_of_this_site(candidate: str) -> None:
    target = local_path(candidate, "/")
    assert target.startswith("/")
    assert not target.startswith(("//", "/\\"))


@pytest.mark.parametrize("hostile", ["//evil.example/", "https://evil.example/", "/\\evil.example", "", None])
def test_other_sites_fall_back_to_home(hostile: str | None) -> None:
    assert local_path(hostile, "/m/") == "/m/"


def test_a_path_of_this_site_is_kept() -> None:
    assert local_path("/students?school=4141010001&page=2", "/") == "/students?school=4141010001&page=2"


@pytest.fixture
async def console() -> AsyncIterator[AsyncClient]:
    # No service listens on these ports: the frame must not need one.
    settings = ConsoleSettings(
        province="41", identity_url="http://127.0.0.1:9", enrollment_url="http://127.0.0.1:9"
    )
    app = create_app(settings)
    transport = ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=transport, base_url="http://console.test") as client,
    ):
        yield client


async def test_a_page_without_a_session_sends_the_browser_to_sign_in(console: AsyncClient) -> None:
    response = await console.get("/?scope=4141010001")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/?scope=4141010001"
    htmx = await console.get("/", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/signin")


async def test_a_cross_site_post_is_refused_before_it_reaches_sign_in(console: AsyncClient) -> None:
    form = {"username": "41-province", "password": "whatever-it-is"}
    for headers in ({}, {"Origin": "https://evil.example"}, {"Referer": "https://evil.example/form"}):
        response = await console.post("/signin", data=form, headers=headers)
        assert response.status_code == 403, headers
    same_site = await console.post("/signin", data=form, headers={"Origin": "http://console.test"})
    assert same_site.status_code == 503  # reached sign-in, which found no identity listening


async def test_every_answer_carries_the_security_headers(console: AsyncClient) -> None:
    for path in ("/signin", "/assets/console.css", "/nowhere"):
        response = await console.get(path)
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "HX-Request" in response.headers["vary"]
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_only_allow_listed_assets_are_served(console: AsyncClient) -> None:
    assert (await console.get("/assets/htmx.min.js")).status_code == 200
    for name in ("package.json", "..%2Fpackage.json", "axe.min.js", "htmx.js"):
        assert (await console.get(f"/assets/{name}")).status_code == 404, name


async def test_the_language_switch_keeps_the_page_and_refuses_other_sites(console: AsyncClient) -> None:
    switched = await console.get("/lang/en?next=/students?page=2")
    assert switched.headers["location"] == "/students?page=2"
    assert "xueji_lang=en" in switched.headers["set-cookie"]
    hostile = await console.get("/lang/en?next=//evil.example/")
    assert hostile.headers["location"] == "/"
    console.cookies.set("xueji_lang", "en")
    english = await console.get("/signin")
    assert '<html lang="en">' in english.text and "Password" in english.text


SCHOOLS = [
    {"code": "4141010001", "name": "A", "lineage": {"city": "4101", "county": "410102"}},
    {"code": "4141020001", "name": "B", "lineage": {"city": "4102", "county": "410202"}},
]
REGIONS = [
    {"code": "4101", "name": "郑州市", "parent_code": "41"},
    {"code": "4102", "name": "开封市", "parent_code": "41"},
    {"code": "4103", "name": "洛阳市", "parent_code": "41"},
    {"code": "410102", "name": "中原区", "parent_code": "4101"},
    {"code": "410103", "name": "二七区", "parent_code": "4101"},
]


def test_the_tree_shows_only_regions_that_hold_a_visible_school() -> None:
    assert [n.key for n in _region_children("41", REGIONS, SCHOOLS)] == ["4101", "4102"]
    assert [n.key for n in _region_children("4101", REGIONS, SCHOOLS)] == ["410102"]
    assert [n.key for n in _region_children("410102", REGIONS, SCHOOLS)] == ["4141010001"]
    assert _region_children("410103", REGIONS, SCHOOLS) == []


def test_a_sub_page_marks_its_own_menu_item() -> None:
    assert current_href("/registration/imports/0192") == "/registration"
    assert current_href("/checkin/leaves") == "/checkin/leaves"
    assert current_href("/checkin/rounds/1") == "/checkin"
    assert current_href("/transfers/new") == "/transfers/new"
    assert current_href("/transfers/0192") == "/transfers"
    assert current_href("/") is None
    assert current_href("/studentsx") is None


async def test_signing_out_works_while_identity_cannot_be_reached(console: AsyncClient) -> None:
    # Revoking the session at identity is best effort: the cookies must go regardless.
    console.cookies.set("xueji_refresh", "a-refresh-token-identity-never-hears-of")
    console.cookies.set("xueji_access", "not.a.token")
    response = await console.post("/signout", headers={"Origin": "http://console.test"})
    assert response.status_code == 303
    assert response.headers["location"] == "/signin"
    cleared = response.headers.get_list("set-cookie")
    assert any(c.startswith("xueji_refresh=") and "Max-Age=0" in c for c in cleared)
    assert any(c.startswith("xueji_access=") and "Max-Age=0" in c for c in cleared)


async def test_signing_out_forgets_the_kept_answers_of_that_session_only() -> None:
    # R1 was traded for R2, R2 for R3; the browser signs out holding R3. Within the minute the
    # console keeps those answers, R1 or R2 would otherwise still get a fresh access token.
    upstream = Upstream({"identity": "http://127.0.0.1:9"}, timeout=2.0)
    sessions = Sessions(upstream, JwksVerifier("http://127.0.0.1:9/jwks", "41"))
    until = time.monotonic() + TRADED_ANSWER_SECONDS
    others = Tokens("access-b2", "refresh-b2", 900)
    sessions._traded = {
        "refresh-a1": (Tokens("access-a2", "refresh-a2", 900), until),
        "refresh-a2": (Tokens("access-a3", "refresh-a3", 900), until),
        "refresh-b1": (others, until),
    }
    try:
        assert await sessions.revoke("refresh-a3") is False  # no identity listening: best effort
        assert await sessions.refresh("refresh-a1") is None
        assert await sessions.refresh("refresh-a2") is None
        assert await sessions.refresh("refresh-b1") == others
    finally:
        await upstream.aclose()
