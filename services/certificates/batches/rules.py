"""The rules of a print batch, as plain values: what a request may ask for, which organisations a
scope covers, the batch's states, how items fall into chunks, and how files are named.

Sources: issue 8 "3. Printing"; DOMAIN.md "Graduation and certificates" (printed centrally from
11 June, schools stick the photo and emboss the seal); seed 004 art. 17–18.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Purpose = Literal["draft", "issue", "reprint"]

# A school code is 10 digits (学校标识码); a region code is GB/T 2260, read at its level:
# 2 digits a province, 4 a city, 6 a county (DOMAIN.md "Organisation tree").
_SCHOOL_CODE = re.compile(r"[0-9]{10}")
_REGION_CODE = re.compile(r"[0-9]{2}([0-9]{2}([0-9]{2})?)?")
ScopeLevel = Literal["school", "province", "city", "county"]

# A per-student file is named after its certificate number; a draft of a list not yet issued
# has no number and is named after its position instead. Only these characters reach a path.
_FILE_STEM = re.compile(r"[0-9A-Za-z-]{1,64}")

# Printed where the number goes on a draft of a list not yet issued: the serial is allocated
# only at issue (numbers.py), so a draft cannot show one and must not show a plausible fake.
DRAFT_NUMBER = "草稿（未编号）"
# A draft's QR says what it is: no verification page will ever answer for it.
DRAFT_QR_TEXT = "XUEJI DRAFT - NOT A CERTIFICATE"


class BatchRequestRefused(ValueError):
    """A batch request that breaks a rule; ``field`` names what to correct."""

    def __init__(self, field: str, reason: str, reason_zh: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.reason_zh = reason_zh


def scope_level(scope: str) -> ScopeLevel:
    """What a batch's scope names: a school, or a province/city/county for a bureau's batch."""
    if _SCHOOL_CODE.fullmatch(scope):
        return "school"
    if _REGION_CODE.fullmatch(scope):
        return {2: "province", 4: "city", 6: "county"}[len(scope)]  # type: ignore[return-value]
    raise BatchRequestRefused(
        "scope",
        "a 10-digit school code or a 2-, 4- or 6-digit region code",
        "应为10位学校标识码或2/4/6位行政区划代码",
    )


def region_contains(region: str, code: str) -> bool:
    """GB/T 2260 codes nest by prefix: 41 ⊃ 4101 ⊃ 410102."""
    return code.startswith(region)


@dataclass(frozen=True)
class BatchRequest:
    scope: str
    graduating_year: int
    purpose: Purpose
    reason: str | None
    certificate_ids: tuple[str, ...]


def checked_request(request: BatchRequest) -> BatchRequest:
    """A request as the batch will run it: a reprint states why (the audit log keeps it, and
    a second copy of a certificate is exactly what the log is for); certificate ids choose
    certificates only for a reprint (drafts and issue batches print a whole scope)."""
    scope_level(request.scope)
    reason = (request.reason or "").strip() or None
    if request.purpose == "reprint" and reason is None:
        raise BatchRequestRefused("reason", "a reprint needs its reason", "补打证书须填写原因")
    if request.purpose != "reprint" and request.certificate_ids:
        raise BatchRequestRefused(
            "certificate_ids", "only a reprint chooses certificates", "仅补打可指定证书"
        )
    return BatchRequest(
        scope=request.scope,
        graduating_year=request.graduating_year,
        purpose=request.purpose,
        reason=reason,
        certificate_ids=tuple(dict.fromkeys(request.certificate_ids)),
    )


def prints_watermark(purpose: Purpose, certificates_issued: bool) -> bool:
    """草稿 across every page until the certificates are issued: a draft batch always, any other
    batch only if it somehow prints what is not issued (it cannot, but the paper must not lie)."""
    return purpose == "draft" or not certificates_issued


class BatchState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BatchEvent(StrEnum):
    CHUNK_RENDERED = "chunk_rendered"
    ALL_RENDERED = "all_rendered"  # the printer's parts are joined: the batch is done
    FAILED = "failed"


class TransitionNotAllowed(Exception):
    """A batch was asked to move in a way its state machine does not allow."""


_TRANSITIONS: dict[tuple[BatchState, BatchEvent], BatchState] = {
    (BatchState.QUEUED, BatchEvent.CHUNK_RENDERED): BatchState.RUNNING,
    (BatchState.RUNNING, BatchEvent.CHUNK_RENDERED): BatchState.RUNNING,
    # An empty batch is refused at creation, but a batch whose every chunk was rendered before a
    # restart is finished straight from ``running``; ``queued`` → done covers no-chunk resumes.
    (BatchState.QUEUED, BatchEvent.ALL_RENDERED): BatchState.DONE,
    (BatchState.RUNNING, BatchEvent.ALL_RENDERED): BatchState.DONE,
    (BatchState.QUEUED, BatchEvent.FAILED): BatchState.FAILED,
    (BatchState.RUNNING, BatchEvent.FAILED): BatchState.FAILED,
}


def transition(state: BatchState, event: BatchEvent) -> BatchState:
    """A batch runs queued → running → done; a chunk that cannot be rendered fails it (the
    error is shown; a new batch is asked for once the data is corrected). Done and failed are
    final: a finished batch's files are what was printed."""
    try:
        return _TRANSITIONS[(state, event)]
    except KeyError:
        raise TransitionNotAllowed(f"a {state.value} batch cannot take {event.value}") from None


def chunk_of(seq: int, chunk_size: int) -> int:
    """Items are rendered in fixed chunks of consecutive positions, so a part of the printer's
    file always holds the same items, whichever process rendered it and however often."""
    return seq // chunk_size


def chunk_range(chunk: int, chunk_size: int) -> range:
    return range(chunk * chunk_size, (chunk + 1) * chunk_size)


def percent_done(done: int, total: int) -> int:
    """Whole percent, 100 only when everything is rendered (never rounded up to it)."""
    if total <= 0:
        return 100
    return min(100, done * 100 // total)


def per_student_stem(number: str | None, seq: int) -> str:
    """A per-student file's name without ``.pdf``: the certificate number, or for a draft
    without one its position in the batch."""
    stem = number if number is not None and _FILE_STEM.fullmatch(number) else f"draft-{seq:05d}"
    return stem


def is_file_stem(text: str) -> bool:
    return bool(_FILE_STEM.fullmatch(text))


def printer_part_name(chunk: int) -> str:
    return f"printer-{chunk + 1:04d}.pdf"
