"""The rules of a print batch (services/certificates/batches/rules.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.batches.rules import (
    DRAFT_NUMBER,
    BatchEvent,
    BatchRequest,
    BatchRequestRefused,
    BatchState,
    TransitionNotAllowed,
    checked_request,
    chunk_of,
    chunk_range,
    is_file_stem,
    per_student_stem,
    percent_done,
    printer_part_name,
    prints_watermark,
    region_contains,
    scope_level,
    transition,
)


def request(**overrides: object) -> BatchRequest:
    values: dict[str, object] = {
        "scope": "4101020001",
        "graduating_year": 2027,
        "purpose": "issue",
        "reason": None,
        "certificate_ids": (),
    }
    values.update(overrides)
    return BatchRequest(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("scope", "level"),
    [("4101020001", "school"), ("41", "province"), ("4101", "city"), ("410102", "county")],
)
def test_scope_level__by_length(scope: str, level: str) -> None:
    assert scope_level(scope) == level


@pytest.mark.parametrize(
    "scope", ["", "4", "4101020001\n", "41010", "41010200", "41010200011", "41a102", "４１"]
)
def test_scope_level__refuses_other_codes(scope: str) -> None:
    with pytest.raises(BatchRequestRefused) as refused:
        scope_level(scope)
    assert refused.value.field == "scope"


def test_region_contains__by_prefix() -> None:
    assert region_contains("41", "410102")
    assert region_contains("4101", "410102")
    assert not region_contains("4102", "410102")


def test_checked_request__reprint_without_reason_refused() -> None:
    for reason in (None, "", "   "):
        with pytest.raises(BatchRequestRefused) as refused:
            checked_request(request(purpose="reprint", reason=reason))
        assert refused.value.field == "reason"


def test_checked_request__reprint_reason_trimmed_and_ids_deduplicated() -> None:
    checked = checked_request(request(purpose="reprint", reason=" 卡纸 ", certificate_ids=("a", "b", "a")))
    assert checked.reason == "卡纸"
    assert checked.certificate_ids == ("a", "b")


def test_checked_request__only_a_reprint_chooses_certificates() -> None:
    with pytest.raises(BatchRequestRefused) as refused:
        checked_request(request(purpose="issue", certificate_ids=("a",)))
    assert refused.value.field == "certificate_ids"


def test_prints_watermark__draft_or_not_issued() -> None:
    assert prints_watermark("draft", certificates_issued=True)
    assert prints_watermark("issue", certificates_issued=False)
    assert not prints_watermark("issue", certificates_issued=True)
    assert not prints_watermark("reprint", certificates_issued=True)


@given(st.lists(st.sampled_from(list(BatchEvent)), max_size=12))
def test_transition__done_and_failed_are_final(events: list[BatchEvent]) -> None:
    state = BatchState.QUEUED
    for event in events:
        try:
            after = transition(state, event)
        except TransitionNotAllowed:
            assert state in (BatchState.DONE, BatchState.FAILED)
            continue
        assert state not in (BatchState.DONE, BatchState.FAILED)
        state = after


def test_transition__a_rendered_chunk_starts_the_batch() -> None:
    assert transition(BatchState.QUEUED, BatchEvent.CHUNK_RENDERED) is BatchState.RUNNING
    assert transition(BatchState.RUNNING, BatchEvent.ALL_RENDERED) is BatchState.DONE


@given(st.integers(min_value=1, max_value=20_000), st.integers(min_value=1, max_value=500))
def test_chunk_of__chunks_partition_the_positions(total: int, size: int) -> None:
    chunks = {chunk_of(seq, size) for seq in range(total)}
    covered = [seq for chunk in sorted(chunks) for seq in chunk_range(chunk, size) if seq < total]
    assert covered == list(range(total))
    assert all(seq in chunk_range(chunk_of(seq, size), size) for seq in (0, total - 1))


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=10_000))
def test_percent_done__100_only_when_all_done(done: int, total: int) -> None:
    done = min(done, total)
    percent = percent_done(done, total)
    assert 0 <= percent <= 100
    assert (percent == 100) == (done == total)


def test_per_student_stem__number_or_position() -> None:
    assert per_student_stem("2027410141010001AB", 3) == "2027410141010001AB"
    assert per_student_stem(None, 3) == "draft-00003"
    assert per_student_stem(DRAFT_NUMBER, 3) == "draft-00003"  # never a path from a face


@pytest.mark.parametrize("stem", ["../x", "a/b", "ab\n", "", "a.pdf", "x" * 65, "草稿"])
def test_is_file_stem__refuses_paths(stem: str) -> None:
    assert not is_file_stem(stem)


def test_printer_part_name__sorts_in_chunk_order() -> None:
    names = [printer_part_name(chunk) for chunk in range(0, 1200, 7)]
    assert names == sorted(names)
