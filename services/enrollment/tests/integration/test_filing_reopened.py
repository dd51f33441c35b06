"""A province's supplementary registration window (补注册) reopens its intake's filing (备案)
until the window ends, over HTTP: the students it lets register late can be filed.

Uses the 2016 intake, which no other test registers into (the windows a test opens are state of
the session's province)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.enrollment.tests.integration.conftest import Province, envelope_of, open_supplementary_window
from services.enrollment.tests.integration.test_registration_windows import (
    _fresh_class,
    _pinned_today,
    _register,
)
from shared.auth import Role

INTAKE = {"intake_year": 2016, "season": "autumn"}


async def test_filing__reopened_by_a_supplementary_window_until_it_ends(p41: Province) -> None:
    fresh = await _fresh_class(p41, 2016)
    registrar = p41.auth(Role.SCHOOL_REGISTRAR, fresh.school)

    before = await p41.client.post("/api/v1/filings", json=INTAKE, headers=registrar)
    assert before.status_code == 409, before.text
    assert before.json()["title_zh"].endswith("截止")  # ten years after the regular deadline

    window = await open_supplementary_window(p41, 2016, scope=fresh.school, days=30)
    registered = await _register(p41, fresh)
    assert registered.status_code == 201, registered.text
    student_id = registered.json()["id"]

    after_the_window = date.fromisoformat(window["ends_on"]) + timedelta(days=1)
    with _pinned_today(p41, after_the_window):
        closed = await p41.client.post("/api/v1/filings", json=INTAKE, headers=registrar)
        assert closed.status_code == 409, closed.text

    filed = await p41.client.post("/api/v1/filings", json=INTAKE, headers=registrar)
    assert filed.status_code == 201, filed.text
    assert filed.json()["filed_count"] == 1 and filed.json()["refused"] == []
    [event] = (await p41.outbox_about("enrollment.intake.filed", fresh.school))[-1:]
    assert envelope_of(event).data["filed_student_ids"] == [student_id]

    # A window covering another school reopens nothing here.
    other = await _fresh_class(p41, 2016)
    elsewhere = await p41.client.post(
        "/api/v1/filings", json=INTAKE, headers=p41.auth(Role.SCHOOL_REGISTRAR, other.school)
    )
    assert elsewhere.status_code == 409, elsewhere.text


pytestmark = pytest.mark.integration
