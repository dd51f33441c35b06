"""The left menu: each area of the console, who sees it, and where it starts.

Roles only decide what is offered; the services decide what each user may actually see or do."""

from __future__ import annotations

from dataclasses import dataclass

from shared.auth import Role

STAFF = frozenset(Role) - {Role.STUDENT}
BUREAUS = frozenset({Role.MINISTRY, Role.PROVINCE, Role.CITY, Role.COUNTY})
SCHOOL = frozenset({Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER})
SCHOOL_AND_BUREAUS = SCHOOL | BUREAUS
# Enrollment's pending actions are the school's and its supervising bureaus' (not the ministry's).
SCHOOL_AND_REGIONS = SCHOOL | (BUREAUS - {Role.MINISTRY})


@dataclass(frozen=True)
class MenuItem:
    label: str  # Chinese source text; translated in the template
    href: str
    roles: frozenset[Role]


@dataclass(frozen=True)
class MenuSection:
    label: str
    items: tuple[MenuItem, ...]


MENU: tuple[MenuSection, ...] = (
    MenuSection(
        "学籍",
        (
            MenuItem("学生", "/students", STAFF),
            MenuItem("学籍注册", "/registration", SCHOOL_AND_BUREAUS),
            MenuItem("审核", "/reviews", SCHOOL_AND_BUREAUS),
            MenuItem("待办事项", "/students/pending", SCHOOL_AND_REGIONS),
            MenuItem("学生账号管理", "/accounts", STAFF),
        ),
    ),
    MenuSection(
        "在籍核验",
        (
            MenuItem("核验轮次", "/checkin", STAFF),
            MenuItem("统计", "/checkin/statistics", STAFF),
            MenuItem("请假", "/checkin/leaves", STAFF),
            MenuItem("实习", "/checkin/internships", STAFF),
            MenuItem("未核验提醒与申诉", "/checkin/appeals", STAFF),
        ),
    ),
    MenuSection(
        "转学",
        (
            MenuItem("转学申请", "/transfers/new", SCHOOL_AND_BUREAUS),
            MenuItem("跨省转学查询", "/transfers", SCHOOL_AND_BUREAUS),
        ),
    ),
    MenuSection(
        "毕业",
        (
            MenuItem("预毕业生", "/certificates", SCHOOL_AND_BUREAUS),
            MenuItem("毕业名单", "/certificates/lists", SCHOOL_AND_BUREAUS),
            MenuItem("证书打印", "/certificates/batches", SCHOOL_AND_BUREAUS),
            MenuItem("学历证明书", "/certificates/requests", SCHOOL_AND_BUREAUS),
        ),
    ),
)


def menu_for(role: Role) -> list[MenuSection]:
    sections = []
    for section in MENU:
        items = tuple(item for item in section.items if role in item.roles)
        if items:
            sections.append(MenuSection(section.label, items))
    return sections


def current_href(path: str) -> str | None:
    """The menu item a page belongs to: the longest item path that is the page's path or one of
    its ancestors (``/registration/imports/…`` is under 学籍注册, ``/checkin/leaves`` not under 核验轮次)."""
    hrefs = [item.href for section in MENU for item in section.items]
    matching = [href for href in hrefs if path == href or path.startswith(href.rstrip("/") + "/")]
    return max(matching, key=len, default=None)
