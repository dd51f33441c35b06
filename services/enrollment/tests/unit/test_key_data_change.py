"""关键数据变更: never name and ID at once; both within a year → province; G may not become none."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.key_data_change import KeyData, PastChange, judge_key_data_change

TODAY = date(2026, 11, 27)
NOW = KeyData("王小明", "M", date(2010, 1, 1), "resident_id", "11010120100101001X")
NEW_ID = KeyData("王小明", "M", date(2010, 1, 2), "resident_id", "110101201001020015")
NEW_NAME = KeyData("王晓明", "M", date(2010, 1, 1), "resident_id", "11010120100101001X")
FORMAL = "G11010120100101001X"


def _judge(proposed: KeyData, past: list[PastChange] | None = None, number: str = FORMAL):  # type: ignore[no-untyped-def]
    return judge_key_data_change(NOW, proposed, student_number=number, past=past or [], today=TODAY)


def test_judge__name_and_id_at_once_refused() -> None:
    verdict = _judge(KeyData("王晓明", "M", date(2010, 1, 2), "resident_id", "110101201001020015"))
    assert not verdict.ok and verdict.refusals[0][0] == "name"


def test_judge__new_id_reruns_checks_and_stays_at_the_chain() -> None:
    verdict = _judge(NEW_ID)
    assert verdict.ok and verdict.reruns_checks and verdict.required_levels == ()


def test_judge__name_after_id_within_a_year_goes_to_the_province() -> None:
    past = [PastChange(TODAY - timedelta(days=100), frozenset({"id_number"}))]
    assert _judge(NEW_NAME, past).required_levels == ("province",)
    old = [PastChange(TODAY - timedelta(days=400), frozenset({"id_number"}))]
    assert _judge(NEW_NAME, old).required_levels == ()


def test_judge__formal_number_may_not_become_no_id() -> None:
    verdict = _judge(KeyData("王小明", "M", date(2010, 1, 1), "none", None))
    assert [r[0] for r in verdict.refusals] == ["id_type"]
    assert _judge(KeyData("王小明", "M", date(2010, 1, 1), "none", None), number="L370000000001").ok


def test_judge__nothing_changes_is_refused() -> None:
    assert not _judge(NOW).ok


@given(st.booleans(), st.booleans(), st.integers(0, 800), st.sampled_from(["name", "id_number", "sex"]))
def test_judge__both_within_a_year_exactly_then_province(
    change_name: bool, change_id: bool, days_ago: int, past_field: str
) -> None:
    proposed = KeyData(
        "王晓明" if change_name else NOW.name,
        NOW.sex,
        NOW.birth_date,
        NOW.id_type,
        "110101201001020015" if change_id else NOW.id_number,
    )
    past = [PastChange(TODAY - timedelta(days=days_ago), frozenset({past_field}))]
    verdict = _judge(proposed, past)
    assert verdict.ok == ((change_name or change_id) and not (change_name and change_id))
    within = days_ago <= 365
    both = within and ((change_name and past_field == "id_number") or (change_id and past_field == "name"))
    assert (verdict.required_levels == ("province",)) == both
