"""The student list's URL → enrollment's search, kept pure so it can be tested without a server.

The URL holds the form's filters (the names enrollment's ``/api/v1/students/search`` takes) and the
jurisdiction tree's ``scope``. Every scope is one more filter of the search: a region (province,
city, county) is ``region``, a school ``school`` and a class ``class_id``; so the list, its count
and its export are one filter. The service still decides what each token sees; the scope only
narrows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from services.console.i18n import marked as _
from services.console.i18n import marked_in

FILTER_KEYS = ("region", "school", "grade", "class_id", "major", "study_form", "status", "name", "id_number")
PAGE_SIZE = 20
MAX_PAGE = 5000  # enrollment refuses offsets above 100 000


STATUS_LABELS: Mapping[str, str] = {
    "in_school": _("在校"),
    "on_leave": _("请假中"),
    "suspended": _("休学"),
    "withdrawn": _("退学"),
    "transferred_out": _("已转出"),
    "graduated": _("已毕业"),
    "completed": _("结业"),
    "left_without_completing": _("肄业"),
    "deregistered": _("注销"),
    "dead": _("死亡"),
    "suspected_dropout": _("疑似辍学"),
    "dropout": _("辍学"),
    "abroad": _("出境"),
}
STUDY_FORM_LABELS: Mapping[str, str] = {"full_time": _("全日制"), "part_time": _("非全日制")}
ID_TYPE_LABELS: Mapping[str, str] = {
    "resident_id": _("居民身份证"),
    "hk_macao_taiwan": _("港澳台居民证件"),
    "passport": _("护照"),
    "none": _("无证件"),
}
SEX_LABELS: Mapping[str, str] = {"M": _("男"), "F": _("女")}
HISTORY_LABELS: Mapping[str, str] = {
    "registered": _("注册学籍"),
    "transferred_out": _("已转出"),
    "transferred_in": _("转入学籍"),
    "key_data_changed": _("关键信息变更"),
    "graduation:graduated": _("已毕业"),
    "graduation:completed": _("结业"),
    "graduation:left_without_completing": _("肄业"),
    "graduation_rollback": _("撤销毕业"),
    "transferred_within_province": _("省内转学"),
    "verification_summary": _("核验情况"),
    "appeal_accepted": _("申诉成立"),
    "problem_changed": _("问题学籍处理"),
    "problem_deleted": _("问题学籍删除"),
    "identity_confirmed": _("身份核验确认"),
    # Families whose code carries the kind after a colon; the service's detail says the kind.
    "status_change": _("学籍异动"),
    "status_change_reverted": _("学籍异动已撤回"),
}
# 学籍异动 kinds (seed 004 art. 17–19), in the order a registrar meets them most.
# The kinds share their Chinese with the statuses they lead to; English tells them apart. The
# extractor needs the context written out in each entry.
CHANGE_KIND = "异动类型"
CHANGE_TYPE_LABELS: Mapping[str, str] = {
    "suspend": marked_in("异动类型", "休学"),
    "resume": marked_in("异动类型", "复学"),
    "withdraw": marked_in("异动类型", "退学"),
    "change_study_form": marked_in("异动类型", "转学习形式"),
    "change_major": marked_in("异动类型", "转专业"),
    "repeat_year": marked_in("异动类型", "留级"),
    "skip_grade": marked_in("异动类型", "跳级"),
    "restore": marked_in("异动类型", "恢复学籍"),
    "go_abroad": marked_in("异动类型", "出境"),
    "return_from_abroad": marked_in("异动类型", "入境复学"),
    "deregister": marked_in("异动类型", "注销学籍"),
    "death": marked_in("异动类型", "死亡"),
}
# Which kinds take each optional field of the form (enrollment's domain/status_change.py): the
# form shows a field only for its kinds. Coming back may join a later cohort's class.
CHANGE_KINDS_OF_FIELD: Mapping[str, tuple[str, ...]] = {
    "new_class_id": ("repeat_year", "skip_grade", "change_major", "resume", "return_from_abroad", "restore"),
    "new_major_code": ("change_major",),
    "new_study_form": ("change_study_form",),
}
PENDING_KIND_LABELS: Mapping[str, str] = {
    "miss_threshold": _("未按时完成学籍核验"),
    "suspension_proposed": _("请假超过期限，建议休学"),
}
PENDING_STATE_LABELS: Mapping[str, str] = {
    "open": _("待办理"),
    "resolved": _("已办结"),
    "withdrawn": _("已撤回"),
}
EXPORT_STATE_LABELS: Mapping[str, str] = {
    "pending": _("待审批"),
    "approved": _("已批准，可下载"),
    "downloaded": _("已下载"),
    "expired": _("已过期"),
}


def label(labels: Mapping[str, str], code: str | None) -> str:
    """The Chinese label of a code (or of its family, ``status_change:suspend``); an unknown
    code is shown as it is (data, not a message)."""
    if code is None:
        return ""
    return labels.get(code) or labels.get(code.partition(":")[0], code)


@dataclass(frozen=True)
class Scope:
    """The tree's selection: ``region`` (2, 4 or 6 digits), or ``school`` with an optional class."""

    region: str = ""
    school: str = ""
    class_id: str = ""

    @classmethod
    def parse(cls, raw: str) -> Scope:
        school, _, class_id = raw.strip().partition("/")
        if not school.isdigit():
            return cls()
        if len(school) == 10:
            return cls(school=school, class_id=class_id)
        if len(school) in (2, 4, 6) and not class_id:
            return cls(region=school)
        return cls()


def form_filters(params: Mapping[str, str]) -> dict[str, str]:
    """The filters the form sent, empty ones left out (an empty select means 全部)."""
    return {key: params[key].strip() for key in FILTER_KEYS if params.get(key, "").strip()}


def _narrower_region(one: str, other: str) -> str | None:
    """The region inside both (a county inside its city...), or None when they do not nest."""
    if one.startswith(other) or other.startswith(one):
        return max(one, other, key=len)
    return None


def scoped_filters(filters: Mapping[str, str], scope: Scope) -> dict[str, str] | None:
    """The filters with the tree's scope folded in; None when they contradict each other (a
    school filter other than the scope's school, a region that does not nest in the scope's):
    the list is then empty, not widened."""
    merged = dict(filters)
    if scope.region:
        region = _narrower_region(merged.get("region", scope.region), scope.region)
        if region is None:
            return None
        merged["region"] = region
    for key, value in (("school", scope.school), ("class_id", scope.class_id)):
        if not value:
            continue
        if merged.get(key, value) != value:
            return None
        merged[key] = value
    return merged


def schools_in_region(schools: Sequence[Mapping[str, Any]], region: str) -> list[str]:
    """Codes of the visible schools under a region, in code order: the school filter's choices
    (the search itself narrows by ``region``)."""
    return sorted(
        str(s["code"])
        for s in schools
        if region in (s["lineage"].get(level) for level in ("province", "city", "county"))
    )


def export_filters(filters: Mapping[str, str]) -> dict[str, Any]:
    """The search filters as the export's JSON body wants them (grade is a number there)."""
    body: dict[str, Any] = dict(filters)
    if "grade" in body and body["grade"].isdigit():
        body["grade"] = int(body["grade"])  # otherwise sent as it is: the service names the field
    return body


def export_query(filters: Mapping[str, str]) -> str:
    """The query string of the export request page: exactly the service filter of the list."""
    return urlencode(sorted(filters.items()))
