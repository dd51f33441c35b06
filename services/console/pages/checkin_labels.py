"""The check-in screens' words for the service's codes and the pure mappings the pages use: the
URL's filters to the API's query, a statistics group to the exact list behind its numbers, and
the chart built from the same rows as the table.

``_`` here only marks the texts for the extractor; they are translated when the page renders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from services.console.i18n import marked as _
from shared.china_time import CHINA

PAGE_SIZE = 50
LAST_PAGE = 2000  # checkin refuses offsets above 100 000
RESULT_LABELS: Mapping[str, str] = {
    "normal": _("正常"),
    "internship": _("正在实习"),
    "off_campus": _("不在校区"),
    "suspected_cheating": _("疑似作弊"),
}
ROUND_STATES: Mapping[str, str] = {"scheduled": _("未开始"), "open": _("进行中"), "closed": _("已结束")}
ROUND_KINDS: Mapping[str, str] = {"registration": _("学籍注册"), "verification": _("点名核验")}
SCOPE_LEVELS: Mapping[str, str] = {
    "province": _("省"),
    "city": _("市"),
    "county": _("县（区）"),
    "school": _("学校"),
}
GROUPS: Mapping[str, str] = {
    "school": _("学校"),
    "class": _("班级"),
    "major": _("专业"),
    "grade": _("年级"),
    "city": _("地市"),
    "county": _("县（区）"),
}
STUDY_FORMS: Mapping[str, str] = {"full_time": _("全日制"), "part_time": _("非全日制")}
LEAVE_STATES: Mapping[str, str] = {
    "requested": _("待审批"),
    "approved": _("已批准"),
    "rejected": _("已驳回"),
    "ended": _("已销假"),
    "cancelled": _("已撤回"),
}
APPEAL_STATES: Mapping[str, str] = {"pending": _("待处理"), "accepted": _("已采纳"), "rejected": _("未采纳")}
APPELLANTS: Mapping[str, str] = {"student": _("学生"), "school": _("学校")}
PROMPT_STATES: Mapping[str, str] = {"open": _("待处理"), "withdrawn": _("已撤销")}
# The miss rules as seed 001 四.1 words them (checkin's domain/miss_rules.py sends the same text).
MISS_RULES: Mapping[str, str] = {
    "two_consecutive": _("本学期连续 2 次未按时完成学籍核验"),
    "four_cumulative": _("本学期累计 4 次未按时完成学籍核验"),
}
EXPORT_STATES: Mapping[str, str] = {
    "pending": _("待审批"),
    "approved": _("已批准，可下载"),
    "downloaded": _("已下载"),
    "expired": _("已过期"),
}
LIST_KINDS: Mapping[str, str] = {
    "completed_list": _("已完成名单"),
    "incomplete_list": _("未完成名单"),
    "eligible_list": _("应核验名单"),
}
# checkin's result filter takes "completed" too: 正常 or 正在实习, the statistics' 已完成.
COMPLETED = "completed"
RESULT_CHOICES: Mapping[str, str] = {COMPLETED: _("已完成"), **RESULT_LABELS}

# The filters both lists share (checkin's StudentFilters); the completed list adds three. The
# statistics take the same model, so a group's filters select its list exactly.
REGION_FILTERS = ("city_code", "county_code")
STUDENT_FILTERS = (
    *REGION_FILTERS,
    "school_code",
    "grade",
    "major_code",
    "class_id",
    "study_form",
    "name",
    "student_number",
)
COMPLETED_FILTERS = (*STUDENT_FILTERS, "result", "checked_in_from", "checked_in_to")
STATISTICS_FILTERS = (*REGION_FILTERS, "school_code", "grade", "major_code", "class_id", "study_form")
LIST_PATHS: Mapping[str, str] = {
    "completed_list": "completed",
    "incomplete_list": "incomplete",
    "eligible_list": "eligible",
}


def scope_filters(scope: str) -> dict[str, str]:
    """The jurisdiction tree's city, county, school or class selection as list filters (the
    province needs none: the service already limits a bureau to its own region, and narrows
    further only on request)."""
    school, _sep, class_id = scope.partition("/")
    if not school.isdigit():
        return {}
    if not class_id and len(school) == 4:
        return {"city_code": school}
    if not class_id and len(school) == 6:
        return {"county_code": school}
    if len(school) != 10:
        return {}
    return {"school_code": school, **({"class_id": class_id} if class_id else {})}


def _day_bound(day: str, end: bool) -> str:
    """A date from a date input as the instant the API compares against (China time when no zone
    is given): the whole day is included on both ends."""
    return f"{day}T23:59:59.999999" if end else f"{day}T00:00:00"


def list_filters(params: QueryParams, names: tuple[str, ...], scope: str = "") -> dict[str, str]:
    """The URL's non-empty filters among ``names`` (the tree's scope fills what the URL leaves
    out) as the API's query parameters."""
    found = {key: value for key, value in scope_filters(scope).items() if key in names}
    for name in names:
        value = (params.get(name) or "").strip()
        if not value:
            continue
        if name == "checked_in_from":
            value = _day_bound(value, end=False)
        elif name == "checked_in_to":
            value = _day_bound(value, end=True)
        found[name] = value
    return found


# --- statistics ---------------------------------------------------------------------------------


def group_filters(by: str | None, key: Mapping[str, Any]) -> dict[str, str] | None:
    """The list filters selecting exactly one statistics group; None when the lists cannot
    select it (a missing major or class: no filter matches an empty value)."""
    if by is None:
        return {}
    wanted = {
        "city": ("city_code",),
        "county": ("county_code",),
        "school": ("school_code",),
        "class": ("school_code", "class_id"),
        "major": ("major_code",),
        "grade": ("grade",),
    }.get(by)
    if wanted is None:
        return None
    values = {name: key.get(name) for name in wanted}
    if any(value is None or value == "" for value in values.values()):
        return None
    return {name: str(value) for name, value in values.items()}


def list_link(round_id: str, kind: str, filters: Mapping[str, str], result: str | None = None) -> str:
    query = dict(filters)
    if result is not None:
        query["result"] = result
    path = f"/checkin/rounds/{round_id}/{LIST_PATHS[kind]}"
    return f"{path}?{urlencode(query)}" if query else path


def number_links(round_id: str, filters: Mapping[str, str] | None) -> dict[str, str]:
    """Where each number of a statistics row leads: checked in → the completed list, a result →
    the completed list with that result, completed (正常 + 正在实习) → the completed list with
    result=completed, incomplete → the incomplete list, eligible (应核验) → the eligible list."""
    if filters is None:
        return {}
    links = {
        "checked_in": list_link(round_id, "completed_list", filters),
        "completed": list_link(round_id, "completed_list", filters, COMPLETED),
        "incomplete": list_link(round_id, "incomplete_list", filters),
        "eligible": list_link(round_id, "eligible_list", filters),
    }
    for result in RESULT_LABELS:
        links[result] = list_link(round_id, "completed_list", filters, result)
    return links


def group_label(by: str, key: Mapping[str, Any], translate: Callable[[str], str]) -> str:
    if by == "school":
        return str(key.get("school_name") or key.get("school_code"))
    if by == "class":
        return f"{key.get('class_id') or translate(_('未分班'))} ({key.get('school_name')})"
    if by == "major":
        return str(key.get("major_code") or translate(_("未填专业")))
    if by == "grade":
        return translate(_("%(g)s级")) % {"g": key.get("grade")}
    if by == "city":
        return str(key.get("city_code") or "—")
    return str(key.get("county_code") or "—")


def statistics_rows(
    round_id: str,
    by: str,
    stats: Mapping[str, Any],
    base_filters: Mapping[str, str],
    translate: Callable[[str], str],
) -> list[dict[str, Any]]:
    """One table row per group plus the total, each with its label, numbers and links; a
    group's links add its own filter to the page's filters."""
    rows = []
    for group in stats["groups"]:
        own = group_filters(by, group["key"])
        filters = None if own is None else {**base_filters, **own}
        rows.append(
            {
                "label": group_label(by, group["key"], translate),
                **group,
                "links": number_links(round_id, filters),
            }
        )
    total = stats["total"]
    rows.append(
        {
            "label": translate(_("合计")),
            **total,
            "links": number_links(round_id, dict(base_filters)),
            "total": True,
        }
    )
    return rows


CHART_SERIES = (("normal", _("正常")), ("internship", _("正在实习")), ("incomplete", _("未完成")))


def chart_options(rows: list[dict[str, Any]], translate: Callable[[str], str]) -> dict[str, Any]:
    """A stacked bar per group (正常 + 正在实习 + 未完成 = 应核验), every bar linking to its list."""
    groups = [row for row in rows if not row.get("total")]
    series = []
    for field, label in CHART_SERIES:
        data = []
        for row in groups:
            item: dict[str, Any] = {"value": row[field]}
            if field in row["links"]:
                item["link"] = row["links"][field]
            data.append(item)
        series.append(
            {"name": translate(label), "type": "bar", "stack": "all", "barMaxWidth": 64, "data": data}
        )
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        "grid": {"left": 48, "right": 16, "bottom": 80, "containLabel": True},
        "xAxis": {
            "type": "category",
            "data": [row["label"] for row in groups],
            "axisLabel": {"interval": 0, "overflow": "break", "width": 120},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "color": ["#0958d9", "#389e0d", "#cf1322"],
        "series": series,
    }


def china_time(iso: str | None) -> str:
    """An instant from the service (UTC) as the screen shows it: China time, to the minute."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
