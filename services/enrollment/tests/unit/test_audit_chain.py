"""The audit log's hash chain detects edits, removals and reordering (DESIGN.md "Cross-cutting")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.audit_chain import GENESIS, ChainedEntry, chain_hash, first_break


def _chain(contents: list[dict[str, object]]) -> list[ChainedEntry]:
    entries, prev = [], GENESIS
    for seq, content in enumerate(contents, start=1):
        digest = chain_hash(prev, content)
        entries.append(ChainedEntry(seq, prev, digest, content))
        prev = digest
    return entries


CONTENTS = [{"action": "export.requested", "n": i, "detail": f"学生 {i}"} for i in range(6)]


def test_first_break__intact_chain() -> None:
    assert first_break(_chain(CONTENTS)) is None


def test_chain_hash__key_order_does_not_matter() -> None:
    assert chain_hash(GENESIS, {"a": 1, "b": "二"}) == chain_hash(GENESIS, {"b": "二", "a": 1})


def test_first_break__removed_entry() -> None:
    entries = _chain(CONTENTS)
    found = first_break(entries[:2] + entries[3:])
    assert found is not None and found.seq == 4 and "link" in found.reason


@given(index=st.integers(0, len(CONTENTS) - 1), value=st.text(max_size=20))
def test_first_break__any_edited_entry_is_found(index: int, value: str) -> None:
    entries = _chain(CONTENTS)
    edited = dict(entries[index].content, detail=f"学生 {index}{value}!")
    entries[index] = ChainedEntry(entries[index].seq, entries[index].prev_hash, entries[index].hash, edited)
    found = first_break(entries)
    assert found is not None and found.seq == index + 1 and "edited" in found.reason


def test_first_break__edit_with_rehash_breaks_the_next_link() -> None:
    entries = _chain(CONTENTS)
    forged = {"action": "export.requested", "n": 99}
    entries[2] = ChainedEntry(3, entries[2].prev_hash, chain_hash(entries[2].prev_hash, forged), forged)
    found = first_break(entries)
    assert found is not None and found.seq == 4
