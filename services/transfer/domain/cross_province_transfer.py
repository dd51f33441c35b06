"""Cross-province transfer (跨省转学) as the national platform runs it (DOMAIN.md "Transfers",
seed 002 phase-2 screens): destination school applies → destination school review →
destination bureau review → origin school review → origin bureau review → records move
(自动调档) → done. The applicant may cancel (撤销) until the records start moving.

Both provinces keep a copy of the case and apply the same transitions, so this module is the
one place that says which move is legal from which state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, Literal

from shared.auth import SCHOOL_ROLES, Role


class CrossProvinceTransferState(StrEnum):
    APPLIED = "APPLIED"
    DEST_SCHOOL_APPROVED = "DEST_SCHOOL_APPROVED"
    SENT_TO_ORIGIN = "SENT_TO_ORIGIN"  # the destination bureau approved
    ORIGIN_SCHOOL_APPROVED = "ORIGIN_SCHOOL_APPROVED"
    ORIGIN_APPROVED = "ORIGIN_APPROVED"  # the origin bureau approved: the records are moving
    COMPLETED = "COMPLETED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"


_S = CrossProvinceTransferState

# The labels the national platform shows for a case (seed 002), so both provinces' screens and
# the platform read the same words.
STATE_LABELS: Mapping[CrossProvinceTransferState, str] = MappingProxyType(
    {
        _S.APPLIED: "转入学校发起",
        _S.DEST_SCHOOL_APPROVED: "转入学校审核通过",
        _S.SENT_TO_ORIGIN: "转学申请已发往转出省",
        _S.ORIGIN_SCHOOL_APPROVED: "转出学校审核通过",
        _S.ORIGIN_APPROVED: "转出地教育行政部门审核通过",
        _S.COMPLETED: "调档完毕",
        _S.REJECTED: "已驳回",
        _S.CANCELLED: "已撤销",
    }
)

TERMINAL_STATES = frozenset({_S.COMPLETED, _S.REJECTED, _S.CANCELLED})
OPEN_STATES = frozenset(set(_S) - TERMINAL_STATES)


class ReviewLevel(StrEnum):
    DEST_SCHOOL = "dest_school"
    DEST_BUREAU = "dest_bureau"
    ORIGIN_SCHOOL = "origin_school"
    ORIGIN_BUREAU = "origin_bureau"


LEVEL_LABELS: Mapping[ReviewLevel, str] = MappingProxyType(
    {
        ReviewLevel.DEST_SCHOOL: "转入学校",
        ReviewLevel.DEST_BUREAU: "转入地教育行政部门",
        ReviewLevel.ORIGIN_SCHOOL: "转出学校",
        ReviewLevel.ORIGIN_BUREAU: "转出地教育行政部门",
    }
)


class Side(StrEnum):
    """Which province of the case: the one the student moves to, or the one they leave."""

    DESTINATION = "destination"
    ORIGIN = "origin"


# ---- actions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Approve:
    """A reviewer approves at ``level``. The two check results are facts the destination school's
    approval depends on; the caller passes what it knows (None: not back yet)."""

    name: ClassVar[str] = "approve"
    level: ReviewLevel
    origin_checked: bool | None = None
    destination_checked: bool | None = None


@dataclass(frozen=True)
class Reject:
    """A reviewer rejects at ``level``; ``level=None`` is the system rejecting a case whose origin
    check failed (the student is not the origin's, or their status forbids a transfer)."""

    name: ClassVar[str] = "reject"
    level: ReviewLevel | None = None


@dataclass(frozen=True)
class Cancel:
    name: ClassVar[str] = "cancel"


@dataclass(frozen=True)
class RecordsMoved:
    """The destination's enrollment created the record: 调档完毕."""

    name: ClassVar[str] = "records_moved"


Action = Approve | Reject | Cancel | RecordsMoved


class TransitionNotAllowed(Exception):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


# ---- the transition table ------------------------------------------------------------------

# (state, action, level) -> next state. Everything not listed is refused.
_Move = tuple[CrossProvinceTransferState, str, ReviewLevel | None]
_TRANSITIONS: Mapping[_Move, CrossProvinceTransferState] = MappingProxyType(
    {
        (_S.APPLIED, "approve", ReviewLevel.DEST_SCHOOL): _S.DEST_SCHOOL_APPROVED,
        (_S.DEST_SCHOOL_APPROVED, "approve", ReviewLevel.DEST_BUREAU): _S.SENT_TO_ORIGIN,
        (_S.SENT_TO_ORIGIN, "approve", ReviewLevel.ORIGIN_SCHOOL): _S.ORIGIN_SCHOOL_APPROVED,
        (_S.ORIGIN_SCHOOL_APPROVED, "approve", ReviewLevel.ORIGIN_BUREAU): _S.ORIGIN_APPROVED,
        (_S.APPLIED, "reject", None): _S.REJECTED,
        (_S.APPLIED, "reject", ReviewLevel.DEST_SCHOOL): _S.REJECTED,
        (_S.DEST_SCHOOL_APPROVED, "reject", ReviewLevel.DEST_BUREAU): _S.REJECTED,
        (_S.SENT_TO_ORIGIN, "reject", ReviewLevel.ORIGIN_SCHOOL): _S.REJECTED,
        (_S.ORIGIN_SCHOOL_APPROVED, "reject", ReviewLevel.ORIGIN_BUREAU): _S.REJECTED,
        # Cancel only until the origin bureau approves: after that the records are moving.
        (_S.APPLIED, "cancel", None): _S.CANCELLED,
        (_S.DEST_SCHOOL_APPROVED, "cancel", None): _S.CANCELLED,
        (_S.SENT_TO_ORIGIN, "cancel", None): _S.CANCELLED,
        (_S.ORIGIN_SCHOOL_APPROVED, "cancel", None): _S.CANCELLED,
        (_S.ORIGIN_APPROVED, "records_moved", None): _S.COMPLETED,
    }
)

_PENDING: Mapping[CrossProvinceTransferState, ReviewLevel] = MappingProxyType(
    {state: level for (state, name, level) in _TRANSITIONS if name == "approve" and level is not None}
)


def pending_level(state: CrossProvinceTransferState) -> ReviewLevel | None:
    """The review the case waits for, or None when it waits for no reviewer."""
    return _PENDING.get(state)


def state_pending(level: ReviewLevel) -> CrossProvinceTransferState:
    """The state in which a case waits for ``level``'s review."""
    return next(state for state, pending in _PENDING.items() if pending is level)


def _level_of(action: Action) -> ReviewLevel | None:
    return action.level if isinstance(action, Approve | Reject) else None


def transition(state: CrossProvinceTransferState, action: Action) -> CrossProvinceTransferState:
    """The state after ``action``, or ``TransitionNotAllowed`` with the reason in both languages."""
    target = _TRANSITIONS.get((state, action.name, _level_of(action)))
    if target is None:
        raise TransitionNotAllowed(*_why_not(state, action))
    if isinstance(action, Approve) and action.level is ReviewLevel.DEST_SCHOOL:
        _require_checks_passed(action)
    return target


def _require_checks_passed(action: Approve) -> None:
    # The destination school reviews a student whom both provinces' checks have vouched for:
    # the origin says the student is theirs and may leave, the destination that the class
    # exists and the student has no record here yet.
    for passed, where, where_zh in (
        (action.origin_checked, "origin", "转出省"),
        (action.destination_checked, "destination", "转入地"),
    ):
        if passed is None:
            raise TransitionNotAllowed(
                f"the {where} check has not come back yet", f"{where_zh}学籍核验结果尚未返回，暂不能审核"
            )
        if not passed:
            raise TransitionNotAllowed(f"the {where} check failed", f"{where_zh}学籍核验未通过，不能审核通过")


def review_pending(state: CrossProvinceTransferState) -> ReviewLevel:
    """The level an approval or rejection is for now; ``TransitionNotAllowed`` when none waits."""
    level = pending_level(state)
    if level is None:
        raise TransitionNotAllowed(*_why_no_review(state))
    return level


def _why_no_review(state: CrossProvinceTransferState) -> tuple[str, str]:
    if state in TERMINAL_STATES:
        return _why_terminal(state)
    return (
        f"the case is {state.value} and waits for no review",
        f"该转学申请{STATE_LABELS[state]}，无待审核环节",
    )


def _why_terminal(state: CrossProvinceTransferState) -> tuple[str, str]:
    return (
        f"the case is {state.value} and accepts no further action",
        f"该转学申请{STATE_LABELS[state]}，不能再操作",
    )


def _why_not(state: CrossProvinceTransferState, action: Action) -> tuple[str, str]:
    if state in TERMINAL_STATES:
        return _why_terminal(state)
    if isinstance(action, Cancel):
        return (
            "the records are already moving: a transfer can be cancelled only before the origin approves",
            "学籍档案已开始调转，不能撤销",
        )
    if isinstance(action, RecordsMoved):
        return (
            "records can move only after the origin bureau approves",
            "转出地教育行政部门尚未审核通过，不能调档",
        )
    if isinstance(action, Reject) and action.level is None:
        return "a failed check can reject a case only before any review", "已有审核，不能因核验结果驳回"
    pending = pending_level(state)
    if pending is None:
        return _why_no_review(state)
    level = _level_of(action)
    level_en = level.value if level is not None else "none"
    return (
        f"the case waits for the {pending.value} review, not {level_en}",
        f"该转学申请当前待{LEVEL_LABELS[pending]}审核",
    )


# ---- who reviews ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgLineage:
    """One side's place in the organisation tree; the origin's is unknown until its check."""

    province: str
    city: str | None
    county: str | None
    school: str | None


@dataclass(frozen=True)
class CaseLineage:
    destination: OrgLineage
    origin: OrgLineage

    def side(self, side: Side) -> OrgLineage:
        return self.destination if side is Side.DESTINATION else self.origin


@dataclass(frozen=True)
class Reviewer:
    side: Side
    org_level: Literal["school", "county"]
    roles: frozenset[Role]


# Schools review through their registrar or their leader (学籍主管领导); bureaus through the
# county bureau supervising the school (national phase 2 defaults; provinces may configure
# longer chains later, DOMAIN.md "Status changes").
REVIEWERS: Mapping[ReviewLevel, Reviewer] = MappingProxyType(
    {
        ReviewLevel.DEST_SCHOOL: Reviewer(Side.DESTINATION, "school", SCHOOL_ROLES),
        ReviewLevel.DEST_BUREAU: Reviewer(Side.DESTINATION, "county", frozenset({Role.COUNTY})),
        ReviewLevel.ORIGIN_SCHOOL: Reviewer(Side.ORIGIN, "school", SCHOOL_ROLES),
        ReviewLevel.ORIGIN_BUREAU: Reviewer(Side.ORIGIN, "county", frozenset({Role.COUNTY})),
    }
)


def may_review(
    principal_role: Role,
    principal_org: str,
    principal_province: str,
    level: ReviewLevel,
    lineage: CaseLineage,
) -> bool:
    """A school level is reviewed by that school's registrar or leader, a bureau level by the
    county bureau of that school, each in its own province."""
    reviewer = REVIEWERS[level]
    side = lineage.side(reviewer.side)
    expected_org = side.school if reviewer.org_level == "school" else side.county
    return (
        principal_role in reviewer.roles
        and expected_org is not None
        and principal_org == expected_org
        and principal_province == side.province
    )


def may_cancel(
    principal_role: Role, principal_org: str, principal_province: str, lineage: CaseLineage
) -> bool:
    """The applicant's side cancels: the destination school's registrar (DOMAIN.md: "The applicant
    can cancel (撤销) until the records have moved"; when is the state machine's business)."""
    return (
        principal_role == Role.SCHOOL_REGISTRAR
        and principal_org == lineage.destination.school
        and principal_province == lineage.destination.province
    )


def side_of(province: str, lineage: CaseLineage) -> Side:
    """Which side of the case ``province`` is."""
    return Side.DESTINATION if province == lineage.destination.province else Side.ORIGIN
