"""A graduation list's review (DOMAIN.md "Graduation and certificates"; seed 004 art. 17–18) as
one transition table.

The school registrar submits the list; it is reviewed level by level along the chain the
province configured (业务流程配置; default: the school's leader, then the county bureau, which is
the 学籍主管部门 art. 18 has review graduations). Each level approves, passing the list up, or
returns it with an opinion. A return ends the list: its entries leave it so the school can
submit a corrected list (a list is never edited after submission, so what each level approved
is what was issued). The last approval leaves the list waiting for the province to issue the
certificates (from 11 June, art. 17); issuing ends it.

A list holding a late graduation (beyond the 3-year postponement, graduation_readiness) also
needs the province: the province level is appended when the configured chain does not already
end there. Appended, not inserted before the others, so the lower levels still see the list
first and the province decides on what they passed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

from shared.auth import Role

Level = Literal["school", "county", "city", "province"]
LEVEL_ORDER: tuple[Level, ...] = ("school", "county", "city", "province")
DEFAULT_CHAIN: tuple[Level, ...] = ("school", "county")
LEVEL_ZH: dict[str, str] = {"school": "学校", "county": "县级", "city": "市级", "province": "省级"}

# Who decides at a level, and which part of the list's lineage must be their organisation.
DECIDER_ROLE: dict[str, Role] = {
    "school": Role.SCHOOL_LEADER,
    "county": Role.COUNTY,
    "city": Role.CITY,
    "province": Role.PROVINCE,
}
LEVEL_OF_ROLE: dict[Role, Level] = {
    Role.SCHOOL_LEADER: "school",
    Role.COUNTY: "county",
    Role.CITY: "city",
    Role.PROVINCE: "province",
}


class ListState(StrEnum):
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"  # waits for the province to issue (H5)
    RETURNED = "returned"  # final: the school submits a new list
    ISSUED = "issued"  # final


@dataclass(frozen=True)
class ListReview:
    state: ListState
    levels: tuple[Level, ...]
    level_index: int = 0

    @property
    def pending_level(self) -> Level | None:
        return self.levels[self.level_index] if self.state is ListState.UNDER_REVIEW else None


@dataclass(frozen=True)
class Approve:
    level: Level


@dataclass(frozen=True)
class Return:
    level: Level


@dataclass(frozen=True)
class Issue:
    """The province issued the certificates of an approved list (H5)."""


Action = Approve | Return | Issue


class TransitionNotAllowed(Exception):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


class ChainNotAllowed(ValueError):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


def valid_chain(levels: tuple[str, ...] | list[str]) -> tuple[Level, ...]:
    """A chain the province may configure: levels bottom-up, each once, ending at a bureau.

    A chain of the school alone is refused: art. 18 has the 学籍主管部门 review graduations.
    """
    chain: list[Level] = []
    for level in levels:
        if level not in LEVEL_ORDER:
            raise ChainNotAllowed(f"unknown level {level!r}", f"未知的审核层级：{level}")
        if chain and LEVEL_ORDER.index(level) <= LEVEL_ORDER.index(chain[-1]):
            raise ChainNotAllowed(
                "levels must go up the organisation tree, each once (school, county, city, province)",
                "审核层级须按学校、县、市、省自下而上排列且不重复",
            )
        chain.append(LEVEL_ORDER[LEVEL_ORDER.index(level)])
    if not chain or chain[-1] == "school":
        raise ChainNotAllowed(
            "the chain must include a bureau (county, city or province)",
            "审核流程须包含教育行政部门（县、市或省）",
        )
    return tuple(chain)


def chain_for_list(configured: tuple[Level, ...], *, has_late_graduation: bool) -> tuple[Level, ...]:
    """The chain a list gets at submission (module docstring: late graduations)."""
    if has_late_graduation and configured[-1] != "province":
        return (*configured, "province")
    return configured


def submitted(levels: tuple[Level, ...]) -> ListReview:
    return ListReview(ListState.UNDER_REVIEW, levels, 0)


def transition(review: ListReview, action: Action) -> ListReview:
    """The list after ``action``; raises ``TransitionNotAllowed`` with the reason."""
    match review.state, action:
        case ListState.UNDER_REVIEW, Approve(level) | Return(level) if level != review.pending_level:
            raise TransitionNotAllowed(
                f"the list waits for the {review.pending_level} review, not {level}",
                f"该名单待{LEVEL_ZH[str(review.pending_level)]}审核",
            )
        case ListState.UNDER_REVIEW, Approve():
            if review.level_index + 1 == len(review.levels):
                return replace(review, state=ListState.APPROVED)
            return replace(review, level_index=review.level_index + 1)
        case ListState.UNDER_REVIEW, Return():
            return replace(review, state=ListState.RETURNED)
        case ListState.APPROVED, Issue():
            return replace(review, state=ListState.ISSUED)
    raise TransitionNotAllowed(
        f"a list that is {review.state.value} cannot be {_verb(action)}",
        f"名单当前状态（{_STATE_ZH[review.state]}）不允许此操作",
    )


_STATE_ZH = {
    ListState.UNDER_REVIEW: "审核中",
    ListState.APPROVED: "已审核通过，待发证",
    ListState.RETURNED: "已退回",
    ListState.ISSUED: "已发证",
}


def _verb(action: Action) -> str:
    return {Approve: "approved", Return: "returned", Issue: "issued"}[type(action)]


def may_decide(role: Role, org: str, level: Level, lineage: dict[str, str]) -> bool:
    """The level's office decides: the school's leader, or the list's county, city or province."""
    return DECIDER_ROLE[level] == role and lineage[level] == org
