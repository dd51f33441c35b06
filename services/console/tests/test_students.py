"""The student list's URL → search mapping (pages/students_query.py)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from services.console.pages import students_query as q

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
