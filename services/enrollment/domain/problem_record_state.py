"""A problem record's life (问题学籍, DOMAIN.md "Problem records"; seed 002 §2 问题学籍管理) as one
transition table.

A duplicate-ID case has two sides. The later-registered (or later-changed) side is FIRST and acts
first: change (变更), evidence (佐证) or delete (删除). Change or delete ends the case (the other
side is auto-evidenced); evidence hands the case to SECOND, who has the same three choices. If
both give evidence, the common superior bureau arbitrates (across provinces, the ministry); the
side that loses may then only change or delete. A failed identity check (身份核验未通过) has one
side: the school gives evidence and the county confirms (or sends it back).

Sides are absolute (FIRST / SECOND), never "here" / "there": in a cross-province case both
provinces run this same table on their own copy, and the same move must mean the same thing in
both.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    DUPLICATE_ID = "duplicate_id"  # 身份证件号重复
    IDENTITY_CHECK_FAILED = "identity_check_failed"  # 身份核验未通过


class ProblemRecordState(StrEnum):
    OPEN = "open"  # waiting for the first side (the value open_problem_record writes)
    AWAITING_SECOND = "awaiting_second"  # the first side gave evidence: the other side's turn
    AWAITING_ARBITRATION = "awaiting_arbitration"  # both gave evidence
    FIRST_MUST_FIX = "first_must_fix"  # arbitration went against the first side
    SECOND_MUST_FIX = "second_must_fix"  # arbitration went against the second side
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # identity check: evidence given, county to confirm
    RESOLVED = "resolved"


class Side(StrEnum):
    FIRST = "first"  # registered (or changed key data) later: acts first
    SECOND = "second"

    @property
    def other(self) -> Side:
        return Side.SECOND if self is Side.FIRST else Side.FIRST


class Choice(StrEnum):
    CHANGE = "change"  # 变更: correct the key data
    EVIDENCE = "evidence"  # 佐证: the data is right, here are the documents
    DELETE = "delete"  # 删除: this record should not exist


@dataclass(frozen=True)
class Act:
    """A school's handling of its side, always with an uploaded evidence file."""

    side: Side
    choice: Choice


@dataclass(frozen=True)
class Arbitrate:
    """The common superior's decision: the winner keeps its identity data."""

    winner: Side


@dataclass(frozen=True)
class ConfirmIdentity:
    """The county accepts the school's evidence for a failed identity check."""


@dataclass(frozen=True)
class RejectIdentity:
    """The county sends the identity case back to the school."""


Move = Act | Arbitrate | ConfirmIdentity | RejectIdentity


class Resolution(StrEnum):
    FIRST_CHANGED = "first_changed"
    FIRST_DELETED = "first_deleted"
    SECOND_CHANGED = "second_changed"
    SECOND_DELETED = "second_deleted"
    IDENTITY_CONFIRMED = "identity_confirmed"


@dataclass(frozen=True)
class Outcome:
    state: ProblemRecordState
    resolution: Resolution | None = None


class TransitionNotAllowed(Exception):
    def __init__(self, kind: ProblemKind, state: ProblemRecordState, move: Move) -> None:
        super().__init__(f"a {kind.value} problem record in state {state.value} cannot take {move!r}")
        self.kind = kind
        self.state = state
        self.move = move


S = ProblemRecordState
_FIXES = (Choice.CHANGE, Choice.DELETE)


def _ends(side: Side, choice: Choice) -> Outcome:
    resolution = Resolution(f"{side.value}_{'changed' if choice is Choice.CHANGE else 'deleted'}")
    return Outcome(S.RESOLVED, resolution)


def _duplicate_table() -> dict[tuple[ProblemRecordState, Move], Outcome]:
    table: dict[tuple[ProblemRecordState, Move], Outcome] = {
        (S.OPEN, Act(Side.FIRST, Choice.EVIDENCE)): Outcome(S.AWAITING_SECOND),
        (S.AWAITING_SECOND, Act(Side.SECOND, Choice.EVIDENCE)): Outcome(S.AWAITING_ARBITRATION),
        (S.AWAITING_ARBITRATION, Arbitrate(Side.FIRST)): Outcome(S.SECOND_MUST_FIX),
        (S.AWAITING_ARBITRATION, Arbitrate(Side.SECOND)): Outcome(S.FIRST_MUST_FIX),
    }
    for choice in _FIXES:
        table[(S.OPEN, Act(Side.FIRST, choice))] = _ends(Side.FIRST, choice)
        table[(S.AWAITING_SECOND, Act(Side.SECOND, choice))] = _ends(Side.SECOND, choice)
        # The loser of an arbitration may only change or delete (seed 002 省内问题学籍仲裁).
        table[(S.FIRST_MUST_FIX, Act(Side.FIRST, choice))] = _ends(Side.FIRST, choice)
        table[(S.SECOND_MUST_FIX, Act(Side.SECOND, choice))] = _ends(Side.SECOND, choice)
    return table


# An identity case has only the school's side (FIRST); "change" of the ID number is a key-data
# change with its own review (DOMAIN.md "Status changes and key-data change"), not a move here.
_IDENTITY_TABLE: dict[tuple[ProblemRecordState, Move], Outcome] = {
    (S.OPEN, Act(Side.FIRST, Choice.EVIDENCE)): Outcome(S.AWAITING_CONFIRMATION),
    (S.AWAITING_CONFIRMATION, ConfirmIdentity()): Outcome(S.RESOLVED, Resolution.IDENTITY_CONFIRMED),
    (S.AWAITING_CONFIRMATION, RejectIdentity()): Outcome(S.OPEN),
}

TRANSITIONS: dict[ProblemKind, dict[tuple[ProblemRecordState, Move], Outcome]] = {
    ProblemKind.DUPLICATE_ID: _duplicate_table(),
    ProblemKind.IDENTITY_CHECK_FAILED: _IDENTITY_TABLE,
}


def transition(kind: ProblemKind, state: ProblemRecordState, move: Move) -> Outcome:
    try:
        return TRANSITIONS[kind][(state, move)]
    except KeyError:
        raise TransitionNotAllowed(kind, state, move) from None


def allowed_moves(kind: ProblemKind, state: ProblemRecordState) -> list[Move]:
    return [move for (at, move) in TRANSITIONS[kind] if at is state]


def side_to_act(kind: ProblemKind, state: ProblemRecordState) -> Side | None:
    """Whose school must act now (None: a bureau's turn, or the case is over)."""
    sides = {move.side for move in allowed_moves(kind, state) if isinstance(move, Act)}
    return sides.pop() if len(sides) == 1 else None


def restarts_deadline(before: ProblemRecordState, after: ProblemRecordState) -> bool:
    """Every hand-over starts a fresh 10-working-day deadline for whoever holds the case now,
    as each review step has its own (DOMAIN.md "Status changes": 10 working days per level)."""
    return before is not after and after is not S.RESOLVED
