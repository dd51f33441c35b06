"""What the certificate (毕业) screens share: labels of the service's codes, and the pure mapping
from the page's URL (filters, the jurisdiction tree's scope, the viewer) to the service's query.

Pure functions only (no request, no I/O), so they are tested on their own
(services/console/tests/test_certificates.py). Labels are Chinese source text wrapped in ``_()``
where they are shown; the literal markers below let the message extractor see each of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.console.i18n import marked as _
from services.console.paging import paged
from shared.auth import Principal, Role

PAGE_SIZE = 50
SCHOOL_CODE = re.compile(r"[0-9]{10}")
REGION_CODE = re.compile(r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2})?)?")
EARLIEST_YEAR = 2000
LATEST_YEAR = 2100


OUTCOME_LABELS = {
    "graduated": _("毕业"),
    "completed": _("结业"),
    "left_without_completing": _("肄业"),
}
LIST_STATE_LABELS = {
    "under_review": _("审核中"),
    "approved": _("已通过，待发证"),
    "returned": _("已退回"),
    "issued": _("已发证"),
}
ENTRY_STATE_LABELS = {
    "listed": _("已列入"),
    "issued": _("已发证"),
    "returned": _("已退回"),
    "rolled_back": _("已回退"),
}
LEVEL_LABELS = {"school": _("学校"), "county": _("县级"), "city": _("市级"), "province": _("省级")}
DECISION_LABELS = {"approve": _("同意"), "return": _("退回")}
BATCH_STATE_LABELS = {
    "queued": _("排队中"),
    "running": _("打印中"),
    "done": _("已完成"),
    "failed": _("失败"),
}
PURPOSE_LABELS = {"issue": _("发证打印"), "draft": _("草稿"), "reprint": _("补打")}
REQUEST_STATE_LABELS = {"requested": _("待处理"), "issued": _("已出具"), "rejected": _("已驳回")}
CERTIFICATE_STATUS_LABELS = {"valid": _("有效"), "voided": _("已作废"), "lost": _("已遗失")}
STUDENT_STATUS_LABELS = {
    "in_school": _("在校"),
    "on_leave": _("请假"),
    "suspended": _("休学"),
    "withdrawn": _("退学"),
    "transferred_out": _("已转出"),
    "graduated": _("毕业"),
    "completed": _("结业"),
    "left_without_completing": _("肄业"),
    "deregistered": _("注销"),
    "dead": _("死亡"),
    "suspected_dropout": _("疑似辍学"),
}

# Who does what (the services check again; this only decides what is offered).
LIST_SUBMITTERS = frozenset({Role.SCHOOL_REGISTRAR})
LIST_ISSUERS = frozenset({Role.PROVINCE})
ROLLBACK_ROLES = frozenset({Role.PROVINCE, Role.CITY, Role.COUNTY})
REQUEST_DECIDERS = frozenset({Role.SCHOOL_REGISTRAR, Role.COUNTY})
BATCH_REQUESTERS = frozenset({Role.SCHOOL_REGISTRAR, Role.PROVINCE, Role.CITY, Role.COUNTY})
DECIDER_LEVEL = {
    Role.SCHOOL_LEADER: "school",
    Role.COUNTY: "county",
    Role.CITY: "city",
    Role.PROVINCE: "province",
}


def labels() -> dict[str, Mapping[str, str]]:
    """The label dictionaries every certificate template may use."""
    return {
        "outcome_labels": OUTCOME_LABELS,
        "list_state_labels": LIST_STATE_LABELS,
        "entry_state_labels": ENTRY_STATE_LABELS,
        "level_labels": LEVEL_LABELS,
        "decision_labels": DECISION_LABELS,
        "batch_state_labels": BATCH_STATE_LABELS,
        "purpose_labels": PURPOSE_LABELS,
        "request_state_labels": REQUEST_STATE_LABELS,
        "certificate_status_labels": CERTIFICATE_STATUS_LABELS,
        "student_status_labels": STUDENT_STATUS_LABELS,
    }


def year_of(raw: str | None, today: date) -> int:
    """The ``year`` filter, else this year's graduates (a list is made for the current year)."""
    if raw is not None and raw.isdigit() and EARLIEST_YEAR <= int(raw) <= LATEST_YEAR:
        return int(raw)
    return today.year


def school_of(principal: Principal, scope: str, chosen: str | None) -> str | None:
    """The school a per-school page shows: a school's own staff always see their school; a
    bureau picks one in the tree (``scope`` is a school or ``school/class``) or types its code.
    None when no school is chosen yet. The service still checks the jurisdiction."""
    if principal.role in (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNSELOR):
        return principal.org
    typed = (chosen or "").strip()
    if SCHOOL_CODE.fullmatch(typed):
        return typed
    scope_school = scope.split("/", 1)[0]
    if SCHOOL_CODE.fullmatch(scope_school):
        return scope_school
    return None


def schools_in_region(schools: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """The schools (enrollment's list, already the viewer's) under a region code of the tree;
    all of them when no region is chosen."""
    level = {2: "province", 4: "city", 6: "county"}.get(len(region))
    if not region or level is None or not REGION_CODE.fullmatch(region):
        return schools
    return [s for s in schools if s.get("lineage", {}).get(level) == region]


def batch_scope_default(principal: Principal, scope: str) -> str:
    """What a new print batch covers unless the form says otherwise: the school for its
    registrar; for a bureau the school or region chosen in the tree, else its own region."""
    if principal.role == Role.SCHOOL_REGISTRAR:
        return principal.org
    chosen = scope.split("/", 1)[0]
    if SCHOOL_CODE.fullmatch(chosen) or REGION_CODE.fullmatch(chosen):
        return chosen
    return principal.org


@dataclass(frozen=True)
class ListFilters:
    """The graduation lists' filters as the URL holds them, and as the service reads them."""

    school: str | None
    year: int | None
    state: str | None
    region: str | None = None  # the tree's province, city or county

    def query(self, current_page: int) -> dict[str, str | int]:
        params: dict[str, Any] = paged({}, current_page, PAGE_SIZE)
        if self.school:
            params["school_code"] = self.school
        if self.region:
            params["region"] = self.region
        if self.year:
            params["year"] = self.year
        if self.state:
            params["state"] = self.state
        return params


def list_filters(params: Mapping[str, str], scope: str) -> ListFilters:
    """Unknown or malformed values are dropped rather than sent (the service would answer 422)."""
    chosen = scope.split("/", 1)[0]
    school = (params.get("school") or "").strip() or chosen
    raw_year = params.get("year") or ""
    state = params.get("state") or ""
    return ListFilters(
        school=school if SCHOOL_CODE.fullmatch(school) else None,
        year=int(raw_year) if raw_year.isdigit() and EARLIEST_YEAR <= int(raw_year) <= LATEST_YEAR else None,
        state=state if state in LIST_STATE_LABELS else None,
        region=chosen if REGION_CODE.fullmatch(chosen) else None,
    )


def batch_visible_in_scope(batch_scope: str, scope: str) -> bool:
    """The tree's selection narrows the batches shown: a school shows its own, a region the
    batches of its regions below (a school batch's region is not in its code, so a region
    selection keeps those; the service decided visibility already)."""
    chosen = scope.split("/", 1)[0]
    if not chosen:
        return True
    if SCHOOL_CODE.fullmatch(chosen):
        return batch_scope == chosen
    if REGION_CODE.fullmatch(batch_scope):
        return batch_scope.startswith(chosen)
    return True


def list_entries(student_ids: list[str], outcomes: Mapping[str, str]) -> list[dict[str, str]]:
    """The graduation list's entries from the ticked students, each once and in the page's order,
    with the outcome chosen on their row (毕业 unless another known outcome was chosen)."""
    entries = []
    for student_id in dict.fromkeys(s.strip() for s in student_ids):
        if not student_id:
            continue
        outcome = outcomes.get(f"outcome-{student_id}", "graduated")
        entries.append(
            {"student_id": student_id, "outcome": outcome if outcome in OUTCOME_LABELS else "graduated"}
        )
    return entries
