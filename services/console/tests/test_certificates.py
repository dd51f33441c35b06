"""The certificate screens' pure helpers (URL → the service's query, the graduation list's entries
from the ticked rows, which batches a tree selection shows) and the public verification page's
frame: it answers without a session, and says so when the service cannot be reached."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from httpx import ASGITransport, AsyncClient

from services.console.app import create_app
from services.console.pages import certificates_common as common
from services.console.pages.certificates_batches import REMEMBERED_KEYS, BatchKeys
from services.console.settings import ConsoleSettings
from services.console.tests.rendering import rendered
from shared.auth import Principal, Role

TODAY = date(2026, 11, 28)


def principal(role: Role, org: str) -> Principal:
    return Principal(account_id="a1", username="someone", role=role, org=org, province="41")


@pytest.mark.parametrize(("raw", "expected"), [(None, 2026), ("2027", 2027), ("1999", 2026), ("abc", 2026)])
def test_the_year_defaults_to_this_years_graduates(raw: str | None, expected: int) -> None:
    assert common.year_of(raw, TODAY) == expected


def test_school_staff_always_see_their_own_school_whatever_the_url_asks() -> None:
    registrar = principal(Role.SCHOOL_REGISTRAR, "4141020001")
    assert common.school_of(registrar, "4141010001", "4141010001") == "4141020001"
    assert common.school_of(principal(Role.SCHOOL_LEADER, "4141020001"), "", None) == "4141020001"


def test_a_bureau_picks_the_school_by_code_or_in_the_tree() -> None:
    county = principal(Role.COUNTY, "410102")
    assert common.school_of(county, "", None) is None
    assert common.school_of(county, "410102", None) is None  # a region is not a school
    assert common.school_of(county, "4141010001", None) == "4141010001"
    assert common.school_of(county, "4141010001/class-4141010001-2023-1", None) == "4141010001"
    assert common.school_of(county, "4141010001", " 4141010002 ") == "4141010002"
    assert common.school_of(county, "", "41410100") is None  # not 10 digits


def test_a_new_batch_covers_the_registrars_school_or_the_bureaus_selection() -> None:
    assert common.batch_scope_default(principal(Role.SCHOOL_REGISTRAR, "4141010001"), "4101") == "4141010001"
    county = principal(Role.COUNTY, "410102")
    assert common.batch_scope_default(county, "") == "410102"
    assert common.batch_scope_default(county, "4141010001/class-1") == "4141010001"
    assert common.batch_scope_default(principal(Role.PROVINCE, "41"), "4101") == "4101"


def test_list_filters_drop_what_the_service_would_refuse() -> None:
    filters = common.list_filters({"school": "4141010001", "year": "2026", "state": "issued"}, "")
    assert filters.query(2) == {
        "limit": common.PAGE_SIZE,
        "offset": common.PAGE_SIZE,
        "school_code": "4141010001",
        "year": 2026,
        "state": "issued",
    }
    bad = common.list_filters({"school": "41", "year": "20x6", "state": "deleted"}, "")
    assert bad.query(1) == {"limit": common.PAGE_SIZE, "offset": 0}


def test_the_trees_school_is_the_lists_school_unless_one_is_typed_and_its_region_narrows() -> None:
    assert common.list_filters({}, "4141010001/class-1").school == "4141010001"
    assert common.list_filters({"school": "4141010002"}, "4141010001").school == "4141010002"
    assert common.list_filters({}, "4101").school is None
    assert common.list_filters({}, "4101").query(1)["region"] == "4101"
    assert "region" not in common.list_filters({}, "4141010001").query(1)


def test_the_list_entries_are_the_ticked_students_once_each_with_their_outcome() -> None:
    entries = common.list_entries(
        ["s1", "s2", "s1", " ", "s3"],
        {"outcome-s2": "completed", "outcome-s3": "expelled", "outcome-s9": "completed"},
    )
    assert entries == [
        {"student_id": "s1", "outcome": "graduated"},
        {"student_id": "s2", "outcome": "completed"},
        {"student_id": "s3", "outcome": "graduated"},
    ]
    assert common.list_entries([], {}) == []


@pytest.mark.parametrize(
    ("batch_scope", "selection", "shown"),
    [
        ("4141010001", "", True),
        ("4141010001", "4141010001", True),
        ("4141010001", "4141010001/class-1", True),
        ("4141020001", "4141010001", False),
        ("410102", "4101", True),
        ("410202", "4101", False),
        ("4141010001", "4101", True),  # a school batch's region is not in its code
    ],
)
def test_a_tree_selection_narrows_the_batches(batch_scope: str, selection: str, shown: bool) -> None:
    assert common.batch_visible_in_scope(batch_scope, selection) is shown


def test_every_code_the_service_sends_has_a_label() -> None:
    assert set(common.LIST_STATE_LABELS) == {"under_review", "approved", "returned", "issued"}
    assert set(common.OUTCOME_LABELS) == {"graduated", "completed", "left_without_completing"}
    assert set(common.BATCH_STATE_LABELS) == {"queued", "running", "done", "failed"}
    assert set(common.PURPOSE_LABELS) == {"draft", "issue", "reprint"}
    assert set(common.REQUEST_STATE_LABELS) == {"requested", "issued", "rejected"}


def test_a_form_key_is_remembered_for_the_last_requests_only() -> None:
    keys = BatchKeys()
    keys.remember("first", "batch-0")
    assert keys.made("first") == "batch-0"
    for n in range(REMEMBERED_KEYS):
        keys.remember(f"k{n}", f"batch-{n + 1}")
    assert keys.made("first") is None
    assert keys.made(f"k{REMEMBERED_KEYS - 1}") == f"batch-{REMEMBERED_KEYS}"


@pytest.fixture
async def console() -> AsyncIterator[AsyncClient]:
    # No service listens here: the public page must still answer, and say why it cannot check.
    settings = ConsoleSettings(
        province="41",
        identity_url="http://127.0.0.1:9",
        enrollment_url="http://127.0.0.1:9",
        certificates_url="http://127.0.0.1:9",
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://console.test") as client,
    ):
        yield client


async def test_the_verification_page_needs_no_sign_in(console: AsyncClient) -> None:
    response = await console.get("/verify")
    assert response.status_code == 200
    assert "证书查验" in response.text
    assert 'name="number"' in response.text and 'name="payload"' in response.text
    english = await console.get("/verify", headers={"Accept-Language": "en-GB,en"})
    assert "Verify by certificate number and name" in english.text


async def test_the_verification_page_says_when_the_service_is_unreachable(console: AsyncClient) -> None:
    response = await console.post(
        "/verify",
        data={"mode": "number", "number": "2026410102414101000110792453", "name": "吴佳宁"},
        headers={"Origin": "http://console.test"},
    )
    assert response.status_code == 503
    assert "服务暂不可用" in response.text
    assert 'value="2026410102414101000110792453"' in response.text  # what was typed stays


async def test_the_certificate_screens_ask_staff_to_sign_in(console: AsyncClient) -> None:
    for path in ("/certificates", "/certificates/lists", "/certificates/batches", "/certificates/requests"):
        response = await console.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=/certificates")


def _progress_html(state: str, done: int) -> str:
    batch = {
        "id": "b1",
        "state": state,
        "total": 3,
        "done": done,
        "percent": done * 100 // 3,
        "error": "a font is missing" if state == "failed" else None,
        "finished_at": "2026-11-28T00:39:22Z" if state in ("done", "failed") else None,
    }
    files = [{"stem": "2026410102414101000110792453", "label": "吴佳宁"}] if state == "done" else []
    return rendered("certificates/_progress.html", batch=batch, files=files, **common.labels())


def test_the_progress_fragment_polls_until_the_batch_is_finished() -> None:
    running = _progress_html("running", 1)
    assert 'hx-trigger="every 1s"' in running
    assert "/certificates/batches/b1/progress" in running
    assert "printer.pdf" not in running
    done = _progress_html("done", 3)
    assert "hx-trigger" not in done
    assert "/certificates/batches/b1/printer.pdf" in done
    assert "/certificates/batches/b1/files/2026410102414101000110792453.pdf" in done
    failed = _progress_html("failed", 1)
    assert "hx-trigger" not in failed and "a font is missing" in failed and "printer.pdf" not in failed


def test_a_bureau_chooses_among_the_schools_under_the_trees_region() -> None:
    schools = [
        {"code": "4141010001", "lineage": {"province": "41", "city": "4101", "county": "410102"}},
        {"code": "4141020001", "lineage": {"province": "41", "city": "4102", "county": "410202"}},
    ]
    assert [s["code"] for s in common.schools_in_region(schools, "4101")] == ["4141010001"]
    assert [s["code"] for s in common.schools_in_region(schools, "410202")] == ["4141020001"]
    assert len(common.schools_in_region(schools, "41")) == 2
    assert len(common.schools_in_region(schools, "")) == 2
    assert common.schools_in_region(schools, "4103") == []
