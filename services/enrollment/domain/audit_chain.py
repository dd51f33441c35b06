"""The audit log's hash chain (DESIGN.md "Cross-cutting": audit logs are tamper-evident).

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical
content, so editing, deleting or reordering any entry breaks every hash after it. A chain can be
verified by anyone holding the rows; no key is involved (a keyed MAC would also stop someone who
rewrites the whole tail, but the key would then have to live beside the database it guards).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

GENESIS = "0" * 64  # the "previous hash" of the first entry


def canonical(content: Mapping[str, object]) -> bytes:
    """One byte string per content, whatever the key order: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def chain_hash(prev_hash: str, content: Mapping[str, object]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(content)).hexdigest()


@dataclass(frozen=True)
class ChainedEntry:
    seq: int
    prev_hash: str
    hash: str
    content: Mapping[str, object]


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def first_break(entries: Iterable[ChainedEntry], *, start_hash: str = GENESIS) -> ChainBreak | None:
    """The first entry (in ``seq`` order) whose link or own hash is wrong, or None if intact."""
    expected_prev = start_hash
    for entry in entries:
        if entry.prev_hash != expected_prev:
            return ChainBreak(entry.seq, "previous-hash link broken (an entry was removed or reordered)")
        if chain_hash(entry.prev_hash, entry.content) != entry.hash:
            return ChainBreak(entry.seq, "content does not match its hash (the entry was edited)")
        expected_prev = entry.hash
    return None
