"""The transfer screens' words for the service's codes, and the pure mappings the pages use:
the URL's filters to the API's query, and who may do what on a case as the case itself says.

The service sends its own Chinese words (``state_label``…); the console keeps its own labels per
code instead, so the English page reads English. ``_`` here only marks the texts for the
extractor; they are translated when the page renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from starlette.datastructures import QueryParams

from services.console.i18n import marked as _

KIND_LABELS: Mapping[str, str] = {
    "in_province": _("省内转学"),
    "joint_programme": _("联合招生合作办学"),
    "cross_province": _("跨省转学"),
    "after_graduation": _("毕业后跨省就学"),
}
STATE_LABELS: Mapping[str, str] = {
    "UNDER_REVIEW": _("审核中"),
    "RECORDS_MOVING": _("学籍调档中"),
    "COMPLETED": _("调档完毕"),
    "REJECTED": _("已驳回"),
    "CANCELLED": _("已撤销"),
    "EXPIRED": _("已超期终止"),
}
LEVEL_LABELS: Mapping[str, str] = {
    "origin_school": _("转出学校"),
    "origin_county": _("转出学校所属教育局"),
    "origin_city": _("转出地市教育局"),
    "origin_province": _("转出省教育厅"),
    "dest_school": _("转入学校"),
    "dest_county": _("转入学校所属教育局"),
    "dest_city": _("转入地市教育局"),
    "dest_province": _("转入省教育厅"),
}
ACTION_LABELS: Mapping[str, str] = {
    "apply": _("申请"),
    "approve": _("同意"),
    "reject": _("驳回"),
    "cancel": _("撤销"),
    "cancel_requested": _("申请撤销"),
    "cancel_refused": _("撤销未获同意"),
    "records_moved": _("调档完毕"),
    "expire": _("超期"),
}
ROLE_LABELS: Mapping[str, str] = {
    "school_registrar": _("学籍管理员"),
    "school_leader": _("学籍主管领导"),
    "counselor": _("辅导员"),
    "county": _("县级教育局"),
    "city": _("市级教育局"),
    "province": _("省级教育厅"),
    "ministry": _("教育部"),
    "system": _("系统"),
}
EXPORT_STATE_LABELS: Mapping[str, str] = {
    "pending": _("待审批"),
    "approved": _("已批准，待下载"),
    "downloaded": _("已下载"),
    "expired": _("已过期"),
}
# The applicant side of each kind: across provinces the destination school applies, inside the
# province the origin school does (services/transfer/api/bodies.py ApplyBody).
APPLICANT_SIDE: Mapping[str, str] = {
    "in_province": "origin",
    "joint_programme": "origin",
    "cross_province": "dest",
    "after_graduation": "dest",
}
# The query's province filters, chosen from every province by name (shared.provinces).
PROVINCE_FILTER_LABELS: Mapping[str, str] = {
    "origin_province": _("转出省份"),
    "dest_province": _("转入省份"),
}
CROSS_PROVINCE_KINDS = frozenset({"cross_province", "after_graduation"})

PAGE_SIZE = 20
# The query's filters as the console's URL names them; the API takes the same names.
TEXT_FILTERS = ("student_name", "student_number", "origin_province", "dest_province", "from", "to")
LIST_FILTERS = ("kind", "state")


def state_words(case: Mapping[str, Any]) -> tuple[str, str | None]:
    """The Chinese template of the case's state and the level it names, if any:
    ("待%(level)s审核", "dest_school") while waiting for a review, else (state label, None)."""
    level = case.get("pending_level")
    if case.get("state") == "UNDER_REVIEW" and level in LEVEL_LABELS:
        return _("待%(level)s审核"), str(level)
    return STATE_LABELS.get(str(case.get("state")), str(case.get("state"))), None


def list_query(params: QueryParams, scope: str) -> dict[str, Any]:
    """The URL's filters and page as the API's query (GET /api/v1/transfers); empty fields are
    left out, a school picked in the jurisdiction tree becomes ``school``."""
    query: dict[str, Any] = {}
    for name in TEXT_FILTERS:
        value = params.get(name, "").strip()
        if value:
            query[name] = value
    for name in LIST_FILTERS:
        values = [v for v in params.getlist(name) if v]
        if values:
            query[name] = values
    school = scope.split("/", 1)[0]
    if len(school) == 10 and school.isdigit():
        query["school"] = school
    return query


def applicant_school(case: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(province, school) of the registrar who applied and may cancel."""
    side = APPLICANT_SIDE.get(str(case.get("kind")), "dest")
    return case.get(f"{side}_province"), case.get(f"{side}_school")


def may_cancel(case: Mapping[str, Any], role: str, org: str, province: str) -> bool:
    """The applying school's registrar, in the province where the application was made, while
    the case is under review and no cancel is already asked (the service decides in the end)."""
    if case.get("state") != "UNDER_REVIEW" or case.get("cancel_requested"):
        return False
    applied_in, school = applicant_school(case)
    return role == "school_registrar" and org == school and province == applied_in


def waits_for_checks(case: Mapping[str, Any]) -> bool:
    """The first review needs both checks back (the origin vouches for the student)."""
    chain = case.get("chain") or []
    first = bool(chain) and case.get("pending_level") == chain[0]
    return (
        case.get("state") == "UNDER_REVIEW"
        and first
        and (case.get("origin_checked") is None or case.get("dest_checked") is None)
    )


def still_moving(case: Mapping[str, Any]) -> bool:
    """Something happens without a person: checks, the other province's answer, the records
    moving. The page refreshes itself meanwhile."""
    return bool(
        case.get("state") == "RECORDS_MOVING" or case.get("cancel_requested") or waits_for_checks(case)
    )


def export_filters(list_query_string: str) -> list[tuple[str, str]]:
    """The list page's query string as the export's filters: the same names as the API's list,
    empty fields, the page and the tree's scope left out (the export is the whole filtered list),
    and a school picked in the tree kept as ``school``."""
    params = QueryParams(list_query_string)
    query = list_query(params, params.get("scope", ""))
    return [
        (name, value)
        for name, values in query.items()
        for value in (values if isinstance(values, list) else [values])
    ]


# Registrars read times in China's time, whatever zone the service answers in.
CHINA = timezone(timedelta(hours=8), "CST")


def china_time(iso: str | None, *, seconds: bool = False) -> str:
    """``2026-11-28T00:51:45.12+00:00`` → ``2026-11-28 08:51`` (China time); '' for none."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def china_today() -> str:
    """Today in China, ISO: a review whose ``due_on`` is before it is overdue."""
    return datetime.now(CHINA).date().isoformat()
