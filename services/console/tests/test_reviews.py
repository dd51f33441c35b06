"""The review queues' and the accounts page's pure parts: which family each tab shows, the page
slice, the checked ids of a batch form, the per-item answer, overdue marks, and the URL's filters
as identity's query (list, statistics and export share it)."""

from __future__ import annotations

from datetime import date

import pytest

from services.console.pages import reviews_queues as queues
from services.console.pages.accounts_filters import AccountFilters, filters_from, rate
from services.enrollment.domain.approval_chain import BUSINESS_FAMILIES


def test_every_enrollment_tab_is_a_family_enrollment_filters_by() -> None:
    # enrollment refuses (422) a family it does not know: a renamed one would empty its tab.
    tabs = {q.family for q in queues.QUEUES if q.source == "enrollment"}
    assert tabs <= set(BUSINESS_FAMILIES)


def test_every_enrollment_tab_names_a_family_and_bureaus_get_the_overdue_tab() -> None:
    assert all(q.family for q in queues.QUEUES if q.source == "enrollment")
    assert queues.OVERDUE_QUEUE not in queues.queues_for(bureau=False)
    assert queues.queues_for(bureau=True)[-1] is queues.OVERDUE_QUEUE
    assert len({q.key for q in queues.queues_for(bureau=True)}) == len(queues.queues_for(bureau=True))


@pytest.mark.parametrize(
    ("asked", "opened"), [("graduation", "graduation"), ("nonsense", "registration"), (None, "registration")]
)
def test_an_unknown_tab_opens_the_first(asked: str | None, opened: str) -> None:
    assert queues.queue_named(asked, queues.QUEUES).key == opened


def test_a_school_leader_cannot_open_the_overdue_tab_by_url() -> None:
    assert queues.queue_named("overdue", queues.queues_for(bureau=False)).key == "registration"


def test_checked_ids_keep_page_order_once_each_and_drop_junk() -> None:
    ids = ["b-1", "a-2", "b-1", " ", "x" * 41, "a/../x", "c3"]
    assert queues.checked_ids(ids) == ["b-1", "a-2", "c3"]
    assert len(queues.checked_ids([f"id{n}" for n in range(2000)])) == 1000


def test_overdue_is_past_the_due_date_only() -> None:
    today = date(2026, 11, 28)
    assert queues.is_overdue("2026-11-27", today)
    assert not queues.is_overdue("2026-11-28", today)
    assert not queues.is_overdue(None, today)
    assert not queues.is_overdue("not a date", today)


def test_the_batch_answer_names_each_item_and_counts_the_reasons() -> None:
    result = {
        "done": 2,
        "skipped": 3,
        "summary": "2 条通过，3 条跳过",
        "items": [
            {"id": "a", "outcome": "forwarded"},
            {"id": "b", "outcome": "approved"},
            {"id": "c", "outcome": "skipped", "reason": "不在本级待审核"},
            {"id": "d", "outcome": "skipped", "reason": "班级已撤销"},
            {"id": "e", "outcome": "skipped", "reason": "不在本级待审核"},
        ],
    }
    answer = queues.batch_answer(result, {"a": "张三 无证件学生注册", "c": "李四 学籍异动"})
    assert (answer.done, answer.skipped) == (2, 3)
    assert answer.reasons == [("不在本级待审核", 2), ("班级已撤销", 1)]
    assert answer.lines[0] == {
        "id": "a",
        "title": "张三 无证件学生注册",
        "outcome": "forwarded",
        "reason": "",
    }
    assert answer.lines[3]["title"] == "d"  # an item without a known title is named by its id


def test_the_tree_scope_picks_school_and_class() -> None:
    assert filters_from({}, "4141010001/class-1").identity_params() == {
        "school_code": "4141010001",
        "class_id": "class-1",
    }
    # The form's class wins over the tree's.
    chosen = filters_from({"class_id": "class-2"}, "4141010001/class-1")
    assert chosen.class_id == "class-2"
    region = filters_from({}, "4101")
    assert region.identity_params() == {"region": "4101"}
    assert filters_from({}, "41").identity_params() == {"region": "41"}
    assert filters_from({}, "410102").identity_params() == {"region": "410102"}
    assert filters_from({}, "411").identity_params() == {}


def test_filters_identity_would_refuse_are_dropped() -> None:
    filters = filters_from(
        {"status": "deleted", "school_code": "41", "class_id": "a b", "face": "maybe", "search": "  "}, ""
    )
    assert filters == AccountFilters()


def test_face_and_status_filters_become_identitys_query() -> None:
    filters = filters_from({"status": "not_activated", "face": "no", "search": " 王 "}, "")
    assert filters.identity_params() == {"status": "not_activated", "face_captured": "false", "search": "王"}
    assert filters_from({"face": "yes"}, "").identity_params() == {"face_captured": "true"}


def test_rates() -> None:
    assert rate(0, 0) == "—"
    assert rate(2, 3) == "67%"
    assert rate(3, 3) == "100%"


def test_the_tree_scope_narrows_enrollment_reviews() -> None:
    assert queues.scope_params("41") == {"region": "41"}
    assert queues.scope_params("4101") == {"region": "4101"}
    assert queues.scope_params("410102") == {"region": "410102"}
    assert queues.scope_params("4141010001") == {"school": "4141010001"}
    assert queues.scope_params("4141010001/class-1") == {"school": "4141010001"}
    assert queues.scope_params("") == {}
    assert queues.scope_params("411") == {}


def test_the_trees_node_narrows_the_transfer_and_graduation_queues() -> None:
    assert queues.node_params("4101") == {"region": "4101"}
    assert queues.node_params("4141010001/class-1") == {"region": "4141010001"}
    assert queues.node_params("") == {}
    assert queues.node_params("41a") == {}
