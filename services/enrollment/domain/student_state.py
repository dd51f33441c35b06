"""A student record's status (DOMAIN.md "Student record", "Status changes") as one transition table.

Only the moves the walking skeleton needs are in the table so far; status changes (休学, 复学,
退学 …, issue 3) add rows here rather than ``if status == …`` checks elsewhere.
"""

from __future__ import annotations

from enum import StrEnum


class StudentState(StrEnum):
    """The values match ``shared.events.common.StudentStatus`` (what events carry)."""

    IN_SCHOOL = "in_school"  # 在校
    ON_LEAVE = "on_leave"  # 请假
    SUSPENDED = "suspended"  # 休学
    WITHDRAWN = "withdrawn"  # 退学
    TRANSFERRED_OUT = "transferred_out"  # 转出
    GRADUATED = "graduated"  # 毕业
    COMPLETED = "completed"  # 结业
    LEFT_WITHOUT_COMPLETING = "left_without_completing"  # 肄业
    DEREGISTERED = "deregistered"  # 注销
    DEAD = "dead"  # 死亡
    SUSPECTED_DROPOUT = "suspected_dropout"  # 疑似辍学
    DROPOUT = "dropout"  # 辍学


class StudentAction(StrEnum):
    TRANSFER_OUT = "transfer_out"  # 自动调档: the origin releases the record
    TRANSFER_BACK_IN = "transfer_back_in"  # a student who once left this province comes back


class TransitionNotAllowed(Exception):
    def __init__(self, state: StudentState, action: StudentAction) -> None:
        super().__init__(f"a student in status {state.value} cannot {action.value}")
        self.state = state
        self.action = action


# (from, action) -> to. Cross-province transfer out: seed 002 also allows students who left,
# went abroad, withdrew, were expelled or finished primary; the skeleton allows only 在校 until
# those statuses are reachable (issue 3).
_TRANSITIONS: dict[tuple[StudentState, StudentAction], StudentState] = {
    (StudentState.IN_SCHOOL, StudentAction.TRANSFER_OUT): StudentState.TRANSFERRED_OUT,
    (StudentState.TRANSFERRED_OUT, StudentAction.TRANSFER_BACK_IN): StudentState.IN_SCHOOL,
}

# Statuses whose record is frozen: readable, but nothing changes it here any more.
FROZEN_STATES = frozenset({StudentState.TRANSFERRED_OUT})

# A record in these statuses no longer counts as "studying here": its resident ID may be
# registered again in this province (the partial unique index on student.id_number says the same).
RELEASED_STATES = frozenset({StudentState.TRANSFERRED_OUT})


def transition(state: StudentState, action: StudentAction) -> StudentState:
    try:
        return _TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(state, action) from None


def may_transfer_out(state: StudentState) -> bool:
    """DOMAIN.md "Transfers": who may leave for another province."""
    return (state, StudentAction.TRANSFER_OUT) in _TRANSITIONS


def is_frozen(state: StudentState) -> bool:
    return state in FROZEN_STATES
