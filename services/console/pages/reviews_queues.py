"""The review queues' shape, without I/O: which tab holds which business types, the labels of
levels and outcomes, the page slice, and the per-item answer of a batch decision.

Enrollment keeps every reviewed business (registration without ID, status changes, key data,
problem-record changes) in one queue per reviewer level; each tab is one business family of it
(``status_change:suspension`` belongs to ``status_change``), counted and paged by enrollment. Transfers and
graduation lists are queued by their own services and decided on their own pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from services.console.i18n import marked as _

Source = Literal["enrollment", "transfer", "graduation", "overdue"]


@dataclass(frozen=True)
class Queue:
    key: str  # the ``?queue=`` value
    label: str  # Chinese source text; translated where shown
    source: Source
    family: str | None = None  # enrollment's business family, for enrollment queues


QUEUES: tuple[Queue, ...] = (
    Queue("registration", _("学籍注册"), "enrollment", "registration_no_id"),
    Queue("status_change", _("学籍异动"), "enrollment", "status_change"),
    Queue("key_data", _("关键数据变更"), "enrollment", "key_data_change"),
    Queue("problem_record", _("问题学籍"), "enrollment", "problem_record"),
    Queue("transfer", _("转学"), "transfer"),
    Queue("graduation", _("毕业审核"), "graduation"),
)
# Overdue steps of the levels below are flagged to a bureau (enrollment /reviews/overdue).
OVERDUE_QUEUE = Queue("overdue", _("逾期督办"), "overdue")

PAGE_SIZE = 20
NAMED_IN_ANSWER = 50  # a batch answer's lines that get their item's title looked up


def queues_for(bureau: bool) -> tuple[Queue, ...]:
    return (*QUEUES, OVERDUE_QUEUE) if bureau else QUEUES


def queue_named(key: str | None, available: Sequence[Queue]) -> Queue:
    """The tab of ``?queue=``; an unknown or missing value opens the first."""
    for queue in available:
        if queue.key == key:
            return queue
    return available[0]


def is_overdue(due_on: str | None, today: date) -> bool:
    """A step past its deadline (the services give ``due_on`` as an ISO date)."""
    if not due_on:
        return False
    try:
        return date.fromisoformat(due_on[:10]) < today
    except ValueError:
        return False


def checked_ids(values: Iterable[str], limit: int = 1000) -> list[str]:
    """The checked items of a batch form: each once, in page order, only plausible ids."""
    seen: dict[str, None] = {}
    for value in values:
        value = value.strip()
        if value and len(value) <= 40 and value.replace("-", "").isalnum():
            seen.setdefault(value, None)
    return list(seen)[:limit]


@dataclass(frozen=True)
class BatchAnswer:
    done: int
    skipped: int
    reasons: list[tuple[str, int]]  # each skip reason (the service's words) and how often
    lines: list[dict[str, Any]]  # per item: id, title, outcome, reason


def batch_answer(result: Mapping[str, Any], titles: Mapping[str, str]) -> BatchAnswer:
    """The service's per-item answer, with each item's title for the reader."""
    lines = [
        {
            "id": line["id"],
            "title": titles.get(line["id"], line["id"]),
            "outcome": line["outcome"],
            "reason": line.get("reason") or "",
        }
        for line in result.get("items", [])
    ]
    reasons: dict[str, int] = {}
    for line in lines:
        if line["outcome"] == "skipped":
            reasons[line["reason"]] = reasons.get(line["reason"], 0) + 1
    return BatchAnswer(
        done=int(result.get("done", 0)),
        skipped=int(result.get("skipped", 0)),
        reasons=sorted(reasons.items(), key=lambda pair: -pair[1]),
        lines=lines,
    )


def scope_params(scope: str) -> dict[str, str]:
    """The jurisdiction tree's selection as enrollment's /reviews filters: a region (2/4/6 digits)
    or a school (10 digits, a class part ignored: review items belong to schools). Enrollment
    still bounds everything by the caller's jurisdiction; this only narrows."""
    code = scope.partition("/")[0]
    if code.isdigit() and len(code) in (2, 4, 6):
        return {"region": code}
    if code.isdigit() and len(code) == 10:
        return {"school": code}
    return {}


def node_params(scope: str) -> dict[str, str]:
    """The tree's selection as the transfer and graduation queues' ``region`` (which takes a
    province, city, county or school code); narrowing only, as with enrollment."""
    code = scope.partition("/")[0]
    return {"region": code} if code.isdigit() and len(code) in (2, 4, 6, 10) else {}
