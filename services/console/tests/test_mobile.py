"""Pure helpers of the phone page: which round the check-in page opens, which rounds an appeal can
be about, and a service's problem as the page's scripts read it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from services.console.app import create_app
from services.console.i18n import LANGUAGE_COOKIE, Language
from services.console.mobile.answers import problem_body
from services.console.mobile.checkin import chosen_round
from services.console.mobile.codes import (
    china_time,
    clean_code,
    code_state,
    codes_by_certificate,
    days_sent,
    latest_request_by_certificate,
)
from services.console.mobile.requests import missed_rounds
from services.console.pages.certificates_common import REQUEST_STATE_LABELS
from services.console.settings import ConsoleSettings
from services.console.tests.rendering import rendered
from services.console.upstream import FieldReason, UpstreamProblem


def _round(
    round_id: str, result: str | None = None, missed: bool = False, excused: bool = False
) -> dict[str, Any]:
    return {"id": round_id, "mine": {"result": result, "missed": missed, "excused": excused}}


def test_the_round_named_in_the_url_is_opened() -> None:
    rounds = [_round("a"), _round("b")]
    assert chosen_round(rounds, "b") == rounds[1]
    assert chosen_round(rounds, "nope") is None


def test_without_a_choice_the_first_round_still_awaiting_the_student_opens() -> None:
    rounds = [_round("done", "normal"), _round("intern", "internship"), _round("todo", "off_campus")]
    assert chosen_round(rounds, None) == rounds[2]
    finished = [_round("done", "normal")]
    assert chosen_round(finished, None) == finished[0]  # shown with its result, not hidden
    assert chosen_round([], None) is None


def test_only_unexcused_misses_can_be_appealed() -> None:
    rounds = [
        _round("m", missed=True),
        _round("x", missed=True, excused=True),
        _round("ok", "normal"),
        {"id": "n"},
    ]
    assert [r["id"] for r in missed_rounds(rounds)] == ["m"]


def test_a_refused_photo_reads_in_the_viewers_language() -> None:
    problem = UpstreamProblem(
        422,
        "Invalid field",
        "数据校验未通过",
        detail="photo: several_faces",
        errors=[FieldReason("photo", "several_faces: more than one face", "照片中有多张人脸")],
    )
    chinese = problem_body(problem, chinese=True)
    assert chinese["title"] == "数据校验未通过"
    assert chinese["errors"] == [{"field": "photo", "reason": "照片中有多张人脸"}]
    english = problem_body(problem, chinese=False)
    assert english["title"] == "Invalid field"
    assert english["errors"][0]["reason"] == "several_faces: more than one face"
    no_chinese = UpstreamProblem(400, "Bad", "Bad", errors=[FieldReason("x", "only English", "")])
    assert problem_body(no_chinese, chinese=True)["errors"][0]["reason"] == "only English"


@pytest.fixture
async def console() -> AsyncIterator[AsyncClient]:
    # No service listens on these ports: what is checked here must not need one.
    settings = ConsoleSettings(
        province="41", identity_url="http://127.0.0.1:9", enrollment_url="http://127.0.0.1:9"
    )
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://console.test") as client,
    ):
        yield client


async def test_activation_needs_no_session_and_runs_from_script_files(console: AsyncClient) -> None:
    page = await console.get("/m/activate")
    assert page.status_code == 200
    assert '<script src="/assets/mobile-activate.js"' in page.text
    assert "<script>" not in page.text and "onclick" not in page.text  # CSP: no inline scripts
    for script in ("mobile-common.js", "mobile-activate.js", "mobile-face.js", "mobile-checkin.js"):
        assert (await console.get(f"/assets/{script}")).status_code == 200, script


@pytest.mark.parametrize(
    "path",
    ["/m/", "/m/checkin?round=r1", "/m/face", "/m/consent", "/m/leave", "/m/appeals", "/m/certificates"],
)
async def test_the_students_pages_ask_for_sign_in_and_return_there(console: AsyncClient, path: str) -> None:
    response = await console.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/m/signin?next={path}"


async def test_the_scripts_hear_a_services_problem_as_json_in_the_readers_language(
    console: AsyncClient,
) -> None:
    body = {"name": "王浩然", "id_number": "410102201003141315", "phone": "13800138000"}
    same_site = {"Origin": "http://console.test"}
    chinese = await console.post("/m/activate/code", json=body, headers=same_site)
    assert chinese.status_code == 503  # identity is not listening
    assert chinese.json()["title"] == "服务暂不可用"
    english = await console.post(
        "/m/activate/code", json=body, headers={**same_site, "Cookie": f"{LANGUAGE_COOKIE}=en"}
    )
    assert english.json()["title"] == "Service unavailable"
    refused = await console.post("/m/activate/code", json=body)  # no Origin: not from this site
    assert refused.status_code == 403


# --- the graduate's verification codes (mobile/codes.py, mobile/certificates.html) -----------------


def _code(code: str, *, live: bool = True, revoked: bool = False, certificate: str = "c1") -> dict[str, Any]:
    return {
        "code": code,
        "code_grouped": f"{code[:4]}-{code[4:8]}-{code[8:]}",
        "certificate_id": certificate,
        "certificate_number": "2026410102414101000114827556",
        "expires_at": "2026-12-27T16:30:00Z",
        "revoked": revoked,
        "live": live,
        "created_at": "2026-11-28T01:00:00Z",
    }


def test_a_code_is_sent_to_the_service_as_it_stores_it() -> None:
    assert clean_code("abcd-EFGH jklm") == "abcdEFGHjklm"
    assert clean_code("../x/ＡＢ") == "x"  # no path, no full-width letters
    assert len(clean_code("A" * 100)) == 40


def test_the_validity_goes_as_a_number_or_as_typed_for_the_service_to_refuse() -> None:
    assert days_sent(" 30 ") == 30
    assert days_sent("91") == 91  # the service's range, not the page's, decides
    assert days_sent("thirty") == "thirty"
    assert days_sent("") == ""


def test_a_codes_state_revoked_before_expired_before_live() -> None:
    assert code_state(_code("A" * 12)) == "live"
    assert code_state(_code("A" * 12, live=False)) == "expired"
    assert code_state(_code("A" * 12, live=False, revoked=True)) == "revoked"


def test_expiry_reads_in_china_time() -> None:
    assert china_time("2026-12-27T16:30:00Z") == "2026-12-28 00:30"
    assert china_time("2026-12-27T08:00:00+08:00") == "2026-12-27 08:00"


def test_codes_sit_under_their_certificate_live_first_newest_first() -> None:
    codes = [
        _code("OLDREVOKED01", live=False, revoked=True),
        _code("NEWLIVE00001"),
        _code("OTHERCERT001", certificate="c2"),
        _code("OLDLIVE00001"),
    ]
    grouped = codes_by_certificate(codes)
    assert [c["code"] for c in grouped["c1"]] == ["NEWLIVE00001", "OLDLIVE00001", "OLDREVOKED01"]
    assert [c["code"] for c in grouped["c2"]] == ["OTHERCERT001"]


def _certificates_page(language: Language, **context: Any) -> str:
    values: dict[str, Any] = {
        "certificates": [
            {
                "id": "c1",
                "kind": "graduation",
                "status": "valid",
                "number_grouped": "2026 4101 0241 4101 0001 1482 7556",
                "school_name": "郑州市第一中等职业学校",
                "major_name": "计算机应用",
                "issued_on": "2026-06-20",
            },
            {
                "id": "c0",
                "kind": "graduation",
                "status": "voided",
                "number_grouped": "2026 4101 0241 4101 0001 1079 2453",
                "school_name": "郑州市第一中等职业学校",
                "major_name": "计算机应用",
                "issued_on": "2026-06-20",
            },
        ],
        "codes": {},
        "codes_problem": None,
        "problem": None,
        "about": "",
        "made": None,
        "revoked": "",
        "typed_days": "30",
        "requests": {},
        "request_states": REQUEST_STATE_LABELS,
        "applied": False,
        "typed_statement": "",
    }
    values.update(context)
    for listed in values["codes"].values():
        for code in listed:
            code["state"] = code_state(code)
            code["expires_local"] = china_time(code["expires_at"])
    return rendered("mobile/certificates.html", language, path="/m/certificates", **values)


def test_a_live_code_has_its_verify_link_and_a_revoke_button_that_names_it() -> None:
    html = _certificates_page(
        "zh", codes={"c1": [_code("RHACSR5R62ZJ"), _code("GONEGONEGONE", live=False, revoked=True)]}
    )
    assert 'href="/verify?code=RHACSR5R62ZJ"' in html
    button = re.search(r"<button[^>]*hx-confirm=\"([^\"]*)\"[^>]*>", html)
    assert button is not None
    assert "RHAC-SR5R-62ZJ" in button.group(1)  # the confirmation names the code
    assert 'hx-post="/m/certificates/codes/RHACSR5R62ZJ/revoke"' in button.group(0)  # on the sender
    assert "有效期至 2026-12-28 00:30" in html
    # A revoked code is listed, with nothing left to do with it.
    assert "GONE-GONE-GONE" in html and "已被撤销" in html
    assert "/verify?code=GONEGONEGONE" not in html and "GONEGONEGONE/revoke" not in html


def test_only_a_valid_certificate_offers_a_new_code() -> None:
    html = _certificates_page("zh")
    # Two forms for the valid one (a new code; report it lost), none for the voided one.
    assert html.count('name="certificate_id" value="c1"') == 2
    assert 'value="c0"' not in html
    assert "此证书已不在有效状态，不能生成查验码。" in html


def test_the_services_refusal_shows_at_the_certificate_it_was_about_in_the_readers_language() -> None:
    refused = UpstreamProblem(
        422,
        "Invalid field",
        "数据校验未通过",
        errors=[FieldReason("valid_days", "must be at most 90", "不能超过 90")],
    )
    readings: tuple[tuple[Language, str], ...] = (("zh", "不能超过 90"), ("en", "must be at most 90"))
    for language, reason in readings:
        html = _certificates_page(language, problem=refused, about="c1", typed_days="91")
        first, second = html.split('aria-labelledby="cert-2"')
        assert reason in first and reason not in second
        assert 'value="91"' in first  # what was typed stays
    elsewhere = _certificates_page("zh", problem=refused, about="unknown")
    assert "不能超过 90" in elsewhere  # not lost when it names no certificate shown


def _request(state: str, created_at: str, **more: Any) -> dict[str, Any]:
    return {"certificate_id": "c1", "state": state, "created_at": created_at, "opinion": None, **more}


def test_a_certificates_newest_application_is_the_one_shown() -> None:
    older = _request("rejected", "2026-11-01T08:00:00+00:00", opinion="说明不清")
    newer = _request("requested", "2026-11-02T08:00:00+00:00")
    assert latest_request_by_certificate([newer, older]) == {"c1": newer}


def test_an_application_under_way_hides_the_form_a_rejected_one_shows_why_and_offers_it_again() -> None:
    offered = "/m/certificates/lost"
    assert offered in _certificates_page("zh")
    pending = _certificates_page("zh", requests={"c1": _request("requested", "2026-11-02T08:00:00+00:00")})
    assert offered not in pending and "待处理" in pending
    rejected = _request("rejected", "2026-11-02T08:00:00+00:00", opinion="请补充遗失说明")
    again = _certificates_page("en", requests={"c1": rejected})
    assert offered in again and "请补充遗失说明" in again and "Rejected" in again
    issued = _request("issued", "2026-11-02T08:00:00+00:00", issued_certificate_number="2026 4101 2")
    shown = _certificates_page("zh", requests={"c1": issued})
    assert "2026 4101 2" in shown and "已出具" in shown and offered not in shown
