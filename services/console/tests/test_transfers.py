"""The transfer screens' pure pieces: the URL's filters as the API's query, the export's
filters, the state's words, who is offered cancel, and the application body."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from services.console.i18n import Language
from services.console.pages.transfers_apply import application_body
from services.console.pages.transfers_labels import (
    KIND_LABELS,
    LEVEL_LABELS,
    china_time,
    export_filters,
    list_query,
    may_cancel,
    state_words,
    still_moving,
    waits_for_checks,
)
from services.console.tests.rendering import rendered, viewer

CROSS: dict[str, Any] = {
    "kind": "cross_province",
    "state": "UNDER_REVIEW",
    "pending_level": "dest_school",
    "chain": ["dest_school", "dest_county", "origin_school", "origin_county"],
    "origin_province": "37",
    "origin_school": None,
    "dest_province": "41",
    "dest_school": "4141010001",
    "origin_checked": True,
    "dest_checked": True,
    "cancel_requested": False,
}


def test_filters_in_the_url_become_the_api_query_without_empty_fields() -> None:
    params = QueryParams("student_name=%E6%9D%8E&student_number=&kind=cross_province&state=&from=2026-01-01")
    assert list_query(params, "") == {"student_name": "李", "kind": ["cross_province"], "from": "2026-01-01"}


def test_a_school_picked_in_the_tree_filters_by_school_a_region_does_not() -> None:
    assert list_query(QueryParams(""), "4141010001/class-x") == {"school": "4141010001"}
    assert list_query(QueryParams(""), "4101") == {}


def test_the_export_asks_for_the_whole_filtered_list_not_the_page() -> None:
    asked = export_filters("student_name=%E6%9D%8E&page=3&state=COMPLETED&state=REJECTED&scope=4141010001")
    assert asked == [
        ("student_name", "李"),
        ("state", "COMPLETED"),
        ("state", "REJECTED"),
        ("school", "4141010001"),
    ]


def test_a_waiting_case_names_its_level_an_ended_one_its_state() -> None:
    assert state_words(CROSS) == ("待%(level)s审核", "dest_school")
    assert state_words({**CROSS, "state": "COMPLETED"}) == ("调档完毕", None)
    assert set(LEVEL_LABELS) >= set(CROSS["chain"])
    assert "cross_province" in KIND_LABELS


def test_cancel_is_offered_to_the_applying_registrar_where_the_application_was_made() -> None:
    assert may_cancel(CROSS, "school_registrar", "4141010001", "41")
    assert not may_cancel(CROSS, "school_leader", "4141010001", "41")
    assert not may_cancel(CROSS, "school_registrar", "4141020001", "41")
    assert not may_cancel(CROSS, "school_registrar", "4141010001", "37")
    assert not may_cancel({**CROSS, "cancel_requested": True}, "school_registrar", "4141010001", "41")
    assert not may_cancel({**CROSS, "state": "RECORDS_MOVING"}, "school_registrar", "4141010001", "41")
    inside = {**CROSS, "kind": "in_province", "origin_province": "41", "origin_school": "4141020001"}
    assert may_cancel(inside, "school_registrar", "4141020001", "41")
    assert not may_cancel(inside, "school_registrar", "4141010001", "41")


def test_the_first_review_waits_for_both_checks_and_the_page_refreshes_meanwhile() -> None:
    assert not waits_for_checks(CROSS)
    unchecked = {**CROSS, "origin_checked": None}
    assert waits_for_checks(unchecked)
    assert still_moving(unchecked)
    assert not waits_for_checks({**unchecked, "pending_level": "dest_county"})
    assert still_moving({**CROSS, "state": "RECORDS_MOVING"})
    assert not still_moving({**CROSS, "state": "COMPLETED"})


def test_times_read_in_china() -> None:
    assert china_time("2026-11-28T00:51:45.123+00:00") == "2026-11-28 08:51"
    assert china_time("2026-11-28T20:00:00Z", seconds=True) == "2026-11-29 04:00:00"
    assert china_time(None) == ""


def test_the_application_body_across_and_inside_the_province() -> None:
    form = {
        "kind": "cross_province",
        "student_number": "L0123",
        "student_name": "李䶮",
        "origin_province": "37",
        "destination_school": "",
        "destination_class_id": "",
        "grade": "2024",
        "reason": "随父母迁居",
    }
    assert application_body(form, []) == {
        "kind": "cross_province",
        "student_number": "L0123",
        "student_name": "李䶮",
        "grade": 2024,
        "reason": "随父母迁居",
        "origin_province": "37",
    }
    inside = {
        **form,
        "kind": "in_province",
        "destination_school": "4141020001",
        "destination_class_id": "c-1",
    }
    body = application_body(inside, ["ev-1"])
    assert body["destination_school"] == "4141020001"
    assert body["evidence_ids"] == ["ev-1"]
    assert body["destination_class_id"] == "c-1"
    assert "origin_province" not in body
    # A grade that is not a number goes to the service as typed: its 422 names the field.
    assert application_body({**form, "grade": "二〇二四"}, [])["grade"] == "二〇二四"


def _application_page(language: Language, form: dict[str, str]) -> str:
    return rendered(
        "transfers/new.html",
        language,
        path="/transfers/new",
        viewer=viewer(),
        kind="cross_province",
        kind_labels=KIND_LABELS,
        form=form,
    )


def test_the_origin_province_is_chosen_by_name_and_never_the_readers_own() -> None:
    empty = _application_page("zh", {})
    assert '<option value="37">山东（37）</option>' in empty
    assert 'value="41"' not in empty  # a cross-province transfer comes from another province
    again = _application_page("en", {"origin_province": "37"})
    assert '<option value="37" selected>Shandong (37)</option>' in again
