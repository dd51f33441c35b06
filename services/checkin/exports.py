"""Exports of a round's lists and statistics as xlsx, and the audit log of who exported what.

Lists carry personal data (name, masked ID number, class): they go through dual post (双岗,
shared/dual_post.py) like enrollment's student lists. Statistics are counts: they are handed out
at once, but logged all the same. Each workbook's first row says what it is: the round, the
filter, the count, who asked and when.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin.models import Round
from services.checkin.models.exports import AuditEntry
from services.checkin.round_lists import RESULT_ZH, RESULTS, STUDY_FORM_ZH, GroupBy, group_key_names
from shared.auth import Principal
from shared.china_time import CHINA
from shared.idnumber import mask_student_number
from shared.xlsx import workbook_bytes

LIST_TITLES = {"completed_list": "已完成名单", "incomplete_list": "未完成名单", "eligible_list": "应核验名单"}
_STUDENT_HEADER = ["序号", "学籍号", "姓名", "身份证号", "学校", "年级", "专业", "班级", "学制", "学习形式"]
_GROUP_ZH = {
    "school_code": "学校代码",
    "school_name": "学校",
    "class_id": "班级",
    "major_code": "专业",
    "grade": "年级",
    "city_code": "市",
    "county_code": "县（区）",
}


async def audit(
    session: AsyncSession, principal: Principal, *, action: str, subject: str, detail: dict[str, Any]
) -> None:
    """One entry in the caller's transaction: it commits with the act it records or not at all.
    The database chains and freezes it (migration 0005)."""
    session.add(
        AuditEntry(
            action=action,
            actor_id=principal.account_id,
            actor_name=principal.username,
            actor_role=principal.role.value,
            actor_org=principal.org,
            subject=subject,
            detail=detail,
        )
    )
    await session.flush()


def heading(round_row: Round, what: str, filter_text: str, count: int, by: str, at: datetime) -> str:
    return (
        f"{round_row.name}：{what}；条件：{filter_text}；共 {count} 条；导出人 {by}；"
        f"导出时间 {at.astimezone(CHINA).isoformat(timespec='seconds')}"
    )


def _student_cells(index: int, row: Any) -> list[Any]:
    return [
        index,
        mask_student_number(row.student_number),
        row.name,
        row.id_number_masked,
        row.school_name,
        row.grade,
        row.major_code,
        row.class_id,
        row.study_length,
        STUDY_FORM_ZH.get(row.study_form, row.study_form),
    ]


def completed_workbook(title: str, rows: Sequence[Any]) -> bytes:
    header = [*_STUDENT_HEADER, "学生注册结果", "学生注册时间", "原因"]
    return workbook_bytes(
        "已完成名单",
        title,
        header,
        (
            [
                *_student_cells(i, row),
                RESULT_ZH.get(row.result, row.result),
                row.received_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                "、".join(row.reasons or []),
            ]
            for i, row in enumerate(rows, start=1)
        ),
    )


def incomplete_workbook(title: str, rows: Sequence[Any]) -> bytes:
    header = [*_STUDENT_HEADER, "最近一次结果"]
    return workbook_bytes(
        "未完成名单",
        title,
        header,
        (
            [*_student_cells(i, row), RESULT_ZH.get(row.result, "") if row.result else "未核验"]
            for i, row in enumerate(rows, start=1)
        ),
    )


def statistics_workbook(title: str, by: GroupBy | None, groups: Iterable[dict[str, Any]]) -> bytes:
    keys = group_key_names(by) if by else []
    header = [
        *(_GROUP_ZH[key] for key in keys),
        "应核验人数",
        "已核验人数",
        "有效完成人数",
        *(RESULT_ZH[name] for name in RESULTS),
        "未完成人数",
        "完成率",
    ]
    measures = ["eligible", "checked_in", "completed", *RESULTS, "incomplete", "completion_rate"]
    return workbook_bytes(
        "学籍注册统计",
        title,
        header,
        ([*(group[key] for key in keys), *(group[m] for m in measures)] for group in groups),
    )
