"""The check-in screens' pure pieces: the URL's filters as the API's query, a statistics group
as the exact list behind its numbers, and the chart built from the table's rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import QueryParams

from services.console.i18n import Language
from services.console.pages.checkin_labels import (
    COMPLETED_FILTERS,
    MISS_RULES,
    PROMPT_STATES,
    RESULT_CHOICES,
    RESULT_LABELS,
    STATISTICS_FILTERS,
    STUDENT_FILTERS,
    chart_options,
    china_time,
    group_filters,
    group_label,
    list_filters,
    number_links,
    scope_filters,
    statistics_rows,
)
from services.console.tests.rendering import rendered, viewer
from shared.auth import Role

ROUND = "0439ba03-85da-4aa3-a7db-bea631b2560b"


def english(text: str) -> str:
    return {"合计": "Total", "%(g)s级": "Grade %(g)s", "未填专业": "No major"}.get(text, text)


def counts(eligible: int, normal: int, internship: int, off_campus: int = 0) -> dict[str, Any]:
    completed = normal + internship
    return {
        "eligible": eligible,
        "checked_in": completed + off_campus,
        "completed": completed,
        "normal": normal,
        "internship": internship,
        "off_campus": off_campus,
        "suspected_cheating": 0,
        "incomplete": eligible - completed,
        "completion_rate": completed / eligible,
    }


def test_region_filters_reach_the_lists_and_the_statistics() -> None:
    params = QueryParams("city_code=4101&county_code=410102&name=x&result=completed")
    assert list_filters(params, STUDENT_FILTERS) == {
        "city_code": "4101",
        "county_code": "410102",
        "name": "x",
    }
    assert list_filters(params, COMPLETED_FILTERS)["result"] == "completed"
    assert list_filters(params, STATISTICS_FILTERS) == {"city_code": "4101", "county_code": "410102"}
    # The tree's county is the page's filter unless the URL names another.
    assert list_filters(QueryParams(""), STATISTICS_FILTERS, "410102") == {"county_code": "410102"}
    assert list_filters(QueryParams("county_code=410103"), STUDENT_FILTERS, "410102") == {
        "county_code": "410103"
    }


def test_a_county_group_links_its_numbers_to_its_lists() -> None:
    stats = {
        "groups": [{"key": {"county_code": "410102"}, **counts(10, 6, 1, 2)}],
        "total": counts(10, 6, 1, 2),
    }
    rows = statistics_rows(ROUND, "county", stats, {"city_code": "4101"}, english)
    completed = urlsplit(rows[0]["links"]["completed"])
    assert completed.path == f"/checkin/rounds/{ROUND}/completed"
    assert parse_qs(completed.query) == {
        "city_code": ["4101"],
        "county_code": ["410102"],
        "result": ["completed"],
    }
    assert parse_qs(urlsplit(rows[0]["links"]["incomplete"]).query) == {
        "city_code": ["4101"],
        "county_code": ["410102"],
    }
    assert (
        rows[1]["links"]["completed"] == f"/checkin/rounds/{ROUND}/completed?city_code=4101&result=completed"
    )
    assert RESULT_CHOICES["completed"] == "已完成" and set(RESULT_LABELS) < set(RESULT_CHOICES)


def test_only_non_empty_filters_of_the_list_reach_the_api() -> None:
    params = QueryParams("grade=2025&name=+&result=normal&page=3&unknown=x")
    assert list_filters(params, STUDENT_FILTERS) == {"grade": "2025"}
    assert list_filters(params, COMPLETED_FILTERS) == {"grade": "2025", "result": "normal"}


def test_check_in_dates_cover_whole_days_in_china_time() -> None:
    params = QueryParams("checked_in_from=2026-11-01&checked_in_to=2026-11-28")
    assert list_filters(params, COMPLETED_FILTERS) == {
        "checked_in_from": "2026-11-01T00:00:00",
        "checked_in_to": "2026-11-28T23:59:59.999999",
    }


def test_the_tree_selects_a_region_school_or_class_but_the_url_wins() -> None:
    assert scope_filters("41") == {}  # the province: the service limits the bureau already
    assert scope_filters("4101") == {"city_code": "4101"}
    assert scope_filters("410102") == {"county_code": "410102"}
    assert scope_filters("410102/class-1") == {}
    assert scope_filters("4141010001") == {"school_code": "4141010001"}
    assert scope_filters("4141010001/class-1") == {"school_code": "4141010001", "class_id": "class-1"}
    assert scope_filters("../etc/passwd") == {}
    params = QueryParams("class_id=class-2")
    assert list_filters(params, STUDENT_FILTERS, "4141010001/class-1") == {
        "school_code": "4141010001",
        "class_id": "class-2",
    }


def test_a_group_selects_its_list_when_the_lists_can_filter_it() -> None:
    key = {"school_code": "4141010001", "school_name": "一中", "class_id": "c1"}
    assert group_filters("school", key) == {"school_code": "4141010001"}
    assert group_filters("class", key) == {"school_code": "4141010001", "class_id": "c1"}
    assert group_filters("grade", {"grade": 2025}) == {"grade": "2025"}
    assert group_filters("major", {"major_code": None}) is None
    assert group_filters("class", {**key, "class_id": None}) is None
    assert group_filters("county", {"county_code": "410102"}) == {"county_code": "410102"}
    assert group_filters("city", {"city_code": "4101"}) == {"city_code": "4101"}
    assert group_filters("county", {"county_code": None}) is None
    assert group_filters(None, {}) == {}


def test_each_number_links_to_the_list_with_its_filter() -> None:
    links = number_links(ROUND, {"grade": "2025"})
    assert links["incomplete"] == f"/checkin/rounds/{ROUND}/incomplete?grade=2025"
    assert links["checked_in"] == f"/checkin/rounds/{ROUND}/completed?grade=2025"
    assert links["off_campus"] == f"/checkin/rounds/{ROUND}/completed?grade=2025&result=off_campus"
    assert links["completed"] == f"/checkin/rounds/{ROUND}/completed?grade=2025&result=completed"
    # 应核验 has its own list (checkin's eligible list), with the same filters.
    assert links["eligible"] == f"/checkin/rounds/{ROUND}/eligible?grade=2025"
    assert number_links(ROUND, None) == {}
    assert number_links(ROUND, {})["normal"] == f"/checkin/rounds/{ROUND}/completed?result=normal"


def test_statistics_rows_add_the_group_to_the_page_filters_and_end_with_the_total() -> None:
    stats = {
        "groups": [
            {"key": {"grade": 2024}, **counts(10, 6, 1, 2)},
            {"key": {"grade": 2025}, **counts(5, 1, 0)},
        ],
        "total": counts(15, 7, 1, 2),
    }
    rows = statistics_rows(ROUND, "grade", stats, {"study_form": "full_time"}, english)
    assert [row["label"] for row in rows] == ["Grade 2024", "Grade 2025", "Total"]
    first = parse_qs(urlsplit(rows[0]["links"]["incomplete"]).query)
    assert first == {"study_form": ["full_time"], "grade": ["2024"]}
    total = parse_qs(urlsplit(rows[2]["links"]["incomplete"]).query)
    assert total == {"study_form": ["full_time"]}
    assert rows[2]["total"] and rows[0]["incomplete"] == 3


def test_the_chart_shows_the_table_numbers_with_their_links() -> None:
    stats = {"groups": [{"key": {"major_code": None}, **counts(4, 2, 1)}], "total": counts(4, 2, 1)}
    rows = statistics_rows(ROUND, "major", stats, {}, english)
    options = chart_options(rows, english)
    assert options["xAxis"]["data"] == ["No major"]  # the total is in the table, not the chart
    values = {series["name"]: series["data"][0] for series in options["series"]}
    assert values == {"正常": {"value": 2}, "正在实习": {"value": 1}, "未完成": {"value": 1}}
    grade_rows = statistics_rows(
        ROUND,
        "grade",
        {"groups": [{"key": {"grade": 2025}, **counts(3, 1, 0)}], "total": counts(3, 1, 0)},
        {},
        english,
    )
    bars = chart_options(grade_rows, english)["series"]
    assert sum(series["data"][0]["value"] for series in bars) == 3  # stacked: the eligible students
    assert bars[2]["data"][0]["link"] == f"/checkin/rounds/{ROUND}/incomplete?grade=2025"
    assert group_label("class", {"class_id": None, "school_name": "一中"}, english) == "未分班 (一中)"


def test_times_show_in_china_time() -> None:
    assert china_time("2026-11-30T17:09:00Z") == "2026-12-01 01:09"
    assert china_time("2026-11-28T00:39:16.249837+00:00") == "2026-11-28 08:39"
    assert china_time(None) == ""


def _prompt(state: str = "open") -> dict[str, Any]:
    return {
        "id": "p-1",
        "student_id": "s-1",
        "student_name": "李雷",
        "student_number_masked": "G4101**********1234",
        "school_code": "4141020001",
        "term": "2026-autumn",
        "rule": "two_consecutive",
        "rule_text": "本学期连续 2 次未按时完成学籍核验",
        "round_ids": ["r-1"],
        "rounds": [{"id": "r-1", "name": "十一月点名", "ends_at": "2026-11-20T02:00:00Z"}],
        "state": state,
        "created_at": "2026-11-20T02:00:05Z",
    }


def _prompts_page(language: Language, role: Role, rows: list[dict[str, Any]]) -> str:
    return rendered(
        "checkin/prompts.html",
        language,
        path="/checkin/appeals/prompts",
        viewer=viewer(role),
        when=china_time,
        rows=rows,
        total=len(rows),
        page=1,
        size=50,
        state="",
        name="",
        prompt_states=PROMPT_STATES,
        rules=MISS_RULES,
        may_appeal=role is Role.SCHOOL_REGISTRAR,
        problem=None,
    )


def test_a_prompt_reads_in_the_readers_language_and_only_the_registrar_appeals_an_open_one() -> None:
    english = _prompts_page("en", Role.SCHOOL_REGISTRAR, [_prompt()])
    assert "Missed 2 verification rounds in a row this term" in english
    assert "十一月点名" in english and "(closed 2026-11-20 10:00)" in english  # China time
    form = 'action="/checkin/appeals/prompts/p-1/appeal"'
    assert form in english
    assert 'name="student_id" value="s-1"' in english
    withdrawn = _prompts_page("zh", Role.SCHOOL_REGISTRAR, [_prompt("withdrawn")])
    assert "已撤销" in withdrawn and form not in withdrawn
    assert form not in _prompts_page("zh", Role.COUNTY, [_prompt()])


def test_a_prompt_links_to_the_pending_actions_it_led_to_whatever_became_of_them() -> None:
    link = 'href="/students/pending?kind=miss_threshold&amp;state=&amp;student=s-1"'
    assert link in _prompts_page("zh", Role.COUNTY, [_prompt("withdrawn")])
