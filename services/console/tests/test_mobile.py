"""Pure helpers of the phone page: which round the check-in page opens, which rounds an appeal can
be about, and a service's problem as the page's scripts read it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from services.console.app import create_app
from services.console.i18n import LANGUAGE_COOKIE
from services.console.mobile.answers import problem_body
from services.console.mobile.checkin import chosen_round
from services.console.mobile.requests import missed_rounds
from services.console.settings import ConsoleSettings
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
    "path", ["/m/", "/m/checkin?round=r1", "/m/face", "/m/consent", "/m/leave", "/m/appeals"]
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
