"""The student list's URL → search mapping (pages/students_query.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from services.console.pages import students_query as q
from services.console.pages.students_changes import KEY_DATA_FIELDS, STATUS_FIELDS, change_body
from services.console.pages.students_pending import ANSWER_OF, pending_query
from services.console.tests.rendering import rendered, viewer
from services.console.upstream import FieldReason, UpstreamProblem
from shared.auth import Role

SCHOOLS = [
    {"code": "4141020001", "lineage": {"province": "41", "city": "4102", "county": "410202"}},
    {"code": "4141010001", "lineage": {"province": "41", "city": "4101", "county": "410102"}},
    {"code": "4141010002", "lineage": {"province": "41", "city": "4101", "county": "410103"}},
]


def test_empty_fields_and_unknown_parameters_are_not_filters() -> None:
    params = {"school": "", "grade": "2025", "name": " 吴 ", "page": "2", "scope": "41", "evil": "x"}
    assert q.form_filters(params) == {"grade": "2025", "name": "吴"}


def test_scope_kinds() -> None:
    assert q.Scope.parse("4101") == q.Scope(region="4101")
    assert q.Scope.parse("4141010001") == q.Scope(school="4141010001")
    assert q.Scope.parse("4141010001/class-1") == q.Scope(school="4141010001", class_id="class-1")
    assert q.Scope.parse("") == q.Scope()
    assert q.Scope.parse("41/class-1") == q.Scope()  # a class hangs under a school, not a region
    assert q.Scope.parse("abc") == q.Scope()


def test_a_school_scope_is_one_more_filter() -> None:
    scope = q.Scope.parse("4141010001/class-1")
    assert q.scoped_filters({"grade": "2025"}, scope) == {
        "grade": "2025",
        "school": "4141010001",
        "class_id": "class-1",
    }


def test_a_filter_against_the_scope_empties_the_list_rather_than_widening_it() -> None:
    assert q.scoped_filters({"school": "4141020001"}, q.Scope(school="4141010001")) is None
    assert q.scoped_filters({"class_id": "b"}, q.Scope(school="4141010001", class_id="a")) is None


def test_a_region_scope_is_the_region_filter() -> None:
    assert q.scoped_filters({"grade": "2025"}, q.Scope.parse("4101")) == {"grade": "2025", "region": "4101"}
    # A region already in the URL that nests with the tree's: the narrower of the two.
    assert q.scoped_filters({"region": "410102"}, q.Scope(region="4101")) == {"region": "410102"}
    assert q.scoped_filters({"region": "41"}, q.Scope(region="410102")) == {"region": "410102"}
    # A school filter under a region scope is sent with it: the service gives nothing for a
    # school outside the region, rather than the school everywhere.
    assert q.scoped_filters({"school": "4141020001"}, q.Scope(region="4101")) == {
        "school": "4141020001",
        "region": "4101",
    }


def test_a_region_that_does_not_nest_in_the_scope_empties_the_list() -> None:
    assert q.scoped_filters({"region": "4102"}, q.Scope(region="4101")) is None
    assert q.scoped_filters({"region": "410202"}, q.Scope(region="4101")) is None


def test_the_region_filter_is_read_from_the_url() -> None:
    assert q.form_filters({"region": " 4101 ", "scope": "41"}) == {"region": "4101"}


def test_schools_in_a_region_in_code_order() -> None:
    assert q.schools_in_region(SCHOOLS, "4101") == ["4141010001", "4141010002"]
    assert q.schools_in_region(SCHOOLS, "410202") == ["4141020001"]
    assert q.schools_in_region(SCHOOLS, "41") == ["4141010001", "4141010002", "4141020001"]
    assert q.schools_in_region(SCHOOLS, "3701") == []


def test_the_export_carries_exactly_the_list_filter() -> None:
    filters = {"school": "4141010001", "grade": "2025", "name": "吴"}
    assert dict(parse_qsl(q.export_query(filters))) == filters
    # A region of several schools is exported like any other filter, and read back the same.
    listed = q.scoped_filters({"name": "吴"}, q.Scope.parse("4101"))
    assert listed is not None
    assert (
        q.form_filters(dict(parse_qsl(q.export_query(listed)))) == listed == {"name": "吴", "region": "4101"}
    )
    assert q.export_filters(listed) == {"name": "吴", "region": "4101"}
    assert q.export_filters(filters) == {"school": "4141010001", "grade": 2025, "name": "吴"}
    assert q.export_filters({"grade": "abc"}) == {"grade": "abc"}  # the service names the bad field


def test_labels_fall_back_to_the_code() -> None:
    assert q.label(q.STATUS_LABELS, "in_school") == "在校"
    assert q.label(q.STATUS_LABELS, "new_state") == "new_state"
    assert q.label(q.SEX_LABELS, None) == ""
    assert q.label(q.HISTORY_LABELS, "graduation:graduated") == "已毕业"
    assert q.label(q.HISTORY_LABELS, "status_change:suspend") == "学籍异动"
    assert q.label(q.HISTORY_LABELS, "something:new") == "something:new"


def test_a_change_sends_what_was_given_and_lets_the_service_name_what_is_missing() -> None:
    form = {"type": "change_major", "reason": " 转入数控专业 ", "new_major_code": "660103"}
    form["new_class_id"] = ""
    assert change_body(form, "ev-1", STATUS_FIELDS) == {
        "type": "change_major",
        "reason": "转入数控专业",
        "evidence_ids": ["ev-1"],
        "new_major_code": "660103",
    }
    assert change_body({}, "ev-2", STATUS_FIELDS) == {"reason": "", "evidence_ids": ["ev-2"]}
    corrected = change_body({"name": "韩梅", "id_number": "", "reason": "更正"}, "ev-3", KEY_DATA_FIELDS)
    assert corrected == {"name": "韩梅", "reason": "更正", "evidence_ids": ["ev-3"]}


STUDENT = {
    "id": "s-1",
    "name": "韩梅梅",
    "student_number": "L0123",
    "status": "in_school",
    "study_form": "full_time",
    "lineage": {"province": "41", "city": "4101", "county": "410102", "school": "4141010001"},
}


def test_the_status_change_form_shows_the_services_reason_at_its_field_and_the_action_it_answers() -> None:
    refused = UpstreamProblem(
        422,
        "Invalid field",
        "数据校验未通过",
        errors=[FieldReason("new_class_id", "the class is of another major", "该班级不属于所选专业")],
    )
    context = {
        "s": STUDENT,
        "q": q,
        "classes": [("c-1", "2025级数控1班")],
        "majors": [("660103", "660103 数控技术应用")],
        "action": {"title": "韩梅梅本学期连续2次未参加核验", "due_on": "2026-12-04"},
    }
    form = {"type": "suspend", "reason": "病休", "new_class_id": "c-1", "pending_action_id": "pa-1"}
    english = rendered(
        "students/status_change.html", "en", viewer=viewer(), form=form, problem=refused, **context
    )
    assert "the class is of another major" in english
    assert '<option value="c-1" selected>2025级数控1班</option>' in english
    # The change, not the status it leads to (the two share their Chinese).
    assert '<option value="suspend" selected>Suspension</option>' in english
    assert 'name="pending_action_id" value="pa-1"' in english and "(due 2026-12-04)" in english
    chinese = rendered("students/status_change.html", "zh", viewer=viewer(), form={}, problem=None, **context)
    assert "该班级不属于所选专业" not in chinese and "pending_action_id" not in chinese
    assert '<option value="suspend">休学</option>' in chinese
    # Each optional field names the kinds that take it, for the script that shows only those.
    assert 'data-kinds="change_major"' in chinese and 'data-kinds="change_study_form"' in chinese
    assert 'data-kinds="repeat_year skip_grade change_major resume return_from_abroad restore"' in chinese


def _pending_page(role: Role, row: dict[str, Any]) -> str:
    return rendered(
        "students/pending.html",
        "zh",
        path="/students/pending",
        viewer=viewer(role),
        rows=[row],
        total=1,
        page=1,
        size=50,
        state="open",
        kind="",
        overdue=False,
        q=q,
        answer_of=ANSWER_OF,
        may_answer=role is Role.SCHOOL_REGISTRAR,
    )


def test_an_overdue_action_is_flagged_and_the_registrar_is_offered_the_change_it_asks_for() -> None:
    row = {
        "id": "pa-1",
        "kind": "suspension_proposed",
        "state": "open",
        "student_id": "s-1",
        "student_name": "韩梅梅",
        "student_number_masked": "L0123",
        "lineage": STUDENT["lineage"],
        "term": "2026-autumn",
        "due_on": "2026-11-20",
        "overdue": True,
        "review_id": None,
    }
    html = _pending_page(Role.SCHOOL_REGISTRAR, row)
    assert "逾期" in html and "请假超过期限，建议休学" in html
    assert 'href="/students/s-1/status-change?action=pa-1&amp;type=suspend"' in html
    assert "/status-change" not in _pending_page(Role.COUNTY, row)
    answered = _pending_page(Role.SCHOOL_REGISTRAR, {**row, "overdue": False, "review_id": "r-9"})
    assert 'href="/reviews/r-9"' in answered and "/status-change" not in answered
    assert "badge-overdue" not in answered


def test_the_pending_filters_ask_for_open_actions_unless_all_or_another_state_is_chosen() -> None:
    assert pending_query({}, "") == {"state": "open"}
    # 全部 is an empty state: enrollment's "all" (an empty value would be refused as a bad state).
    assert pending_query({"state": ""}, "4141010001/class-1") == {"state": "all", "school_code": "4141010001"}
    chosen = pending_query({"state": "withdrawn", "kind": "miss_threshold", "overdue": "1"}, "410102")
    assert chosen == {
        "county_code": "410102",
        "state": "withdrawn",
        "kind": "miss_threshold",
        "overdue": "true",
    }
    assert pending_query({"state": "bogus", "kind": "bogus"}, "") == {"state": "open"}
    # One student's, from a miss prompt's link; a value that is no id segment is dropped.
    assert pending_query({"student": "s-1"}, "") == {"state": "open", "student_id": "s-1"}
    assert pending_query({"student": "../x"}, "") == {"state": "open"}
