"""The bureau's problem-record page: which decision a case's state asks of which bureau, and the
forms it renders (the service still decides whether this bureau is the one)."""

from __future__ import annotations

from typing import Any

import pytest

from services.console.i18n import Language
from services.console.pages import reviews_problem_records as records
from services.console.tests.rendering import rendered


def _case(state: str, **more: Any) -> dict[str, Any]:
    return {
        "id": "pr-1",
        "kind": "identity_check_failed",
        "state": state,
        "student_name": "张三",
        "student_number_masked": "L41****01",
        "id_number_masked": "4101**********0011",
        "lineage": {"school": "4141010001"},
        "counterpart_province": None,
        "arbiter_level": None,
        "arbiter_org": None,
        "detail": "身份信息核验未通过：人口信息库中无此身份证号码；已分配临时学籍号",
        "due_on": "2026-12-10",
        "overdue": False,
        "steps": [
            {
                "at": "2026-11-27T08:00:00+00:00",
                "province": "41",
                "move": "evidence",
                "note": "户口本复印件",
                "evidence_id": "ev-9",
            }
        ],
        **more,
    }


@pytest.mark.parametrize(
    ("state", "role", "arbiter", "expected"),
    [
        ("awaiting_confirmation", "county", None, "confirmation"),
        ("awaiting_confirmation", "city", None, None),
        ("awaiting_confirmation", "school_registrar", None, None),
        ("awaiting_arbitration", "city", "city", "arbitration"),
        ("awaiting_arbitration", "county", "city", None),
        ("awaiting_arbitration", "ministry", "ministry", "arbitration"),
        ("open", "county", None, None),
        ("resolved", "county", None, None),
    ],
)
def test_the_form_offered_is_the_decision_the_cases_state_asks_of_this_bureau(
    state: str, role: str, arbiter: str | None, expected: str | None
) -> None:
    assert records.decision_waiting(_case(state, arbiter_level=arbiter), role) == expected


def _page(language: Language, case: dict[str, Any], decision: str | None) -> str:
    return rendered(
        "reviews/problem_record.html",
        language,
        path="/reviews",
        case=case,
        kinds=records.KIND_LABELS,
        states=records.STATE_LABELS,
        moves=records.MOVE_LABELS,
        decision=decision,
        problem=None,
        opinion="",
        done=None,
    )


def test_a_confirmation_offers_confirm_and_return_and_the_steps_read_in_the_readers_language() -> None:
    html = _page("en", _case("awaiting_confirmation"), "confirmation")
    assert 'action="/reviews/problem-records/pr-1/confirmation"' in html
    assert 'value="yes"' in html and 'value="no"' in html
    assert (
        "Waiting for the county&#39;s confirmation" in html or "Waiting for the county's confirmation" in html
    )
    assert "Evidence" in html and "户口本复印件" in html
    assert 'href="/reviews/problem-records/pr-1/evidence/ev-9"' in html  # the step's file
    assert "<td>Henan (41)</td>" in html  # the province of the step by name, in the reader's language
    assert "<h1>Problem records: 张三</h1>" in html and "Kind of problem" in html  # no Chinese colon


def test_an_arbitration_asks_whose_data_stands_and_nothing_is_offered_without_a_decision() -> None:
    case = _case(
        "awaiting_arbitration",
        kind="duplicate_id",
        arbiter_level="county",
        arbiter_org="410102",
        counterpart_province="37",
    )
    html = _page("zh", case, "arbitration")
    assert "<dd>山东（37）</dd>" in html
    assert 'action="/reviews/problem-records/pr-1/arbitration"' in html
    assert 'name="winner" value="this"' in html and 'name="winner" value="counterpart"' in html
    assert "本记录的学生（张三）" in html
    quiet = _page("zh", _case("open"), None)
    assert "/confirmation" not in quiet and "/arbitration" not in quiet and "待学校处理" in quiet


def test_the_school_answers_on_its_turn_but_not_while_its_change_is_under_review() -> None:
    assert records.decision_waiting(_case("open", your_turn=True), "school_registrar") == "school"
    assert records.decision_waiting(_case("open", your_turn=False), "school_registrar") is None
    under_review = _case("open", your_turn=True, pending_review_id="rv-1")
    assert records.decision_waiting(under_review, "school_registrar") is None
    assert records.decision_waiting(_case("open", your_turn=True), "school_leader") is None
