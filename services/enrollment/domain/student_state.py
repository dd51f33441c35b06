"""A student record's status (DOMAIN.md "Student record", "Status changes") as one transition table.

Transfers, every status change (学籍异动: 休学, 复学, 退学 …) and graduation (毕业 / 结业 / 肄业
and its rollback) are rows of one table, rather than ``if status == …`` checks elsewhere;
``domain/status_change.py`` adds the rules a row cannot say (not in the graduating year, back to
full-time needs the province), ``domain/graduation.py`` what a certificate's history decides
(replays, a rollback that came first).
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
    ABROAD = "abroad"  # 出境 (seed 002: a student abroad keeps the record and may return)


class StudentAction(StrEnum):
    TRANSFER_OUT = "transfer_out"  # 自动调档: the origin releases the record
    MOVE_SCHOOL = "move_school"  # 省内转学 / 联合办学: the record moves to another school here
    TRANSFER_BACK_IN = "transfer_back_in"  # a student who once left this province comes back
    # 学籍异动 (DOMAIN.md "Status changes"); the ones that keep the status still need a row, so
    # the table alone says from which statuses each change may be made.
    REPEAT_YEAR = "repeat_year"  # 留级
    CHANGE_MAJOR = "change_major"  # 转专业
    CHANGE_STUDY_FORM = "change_study_form"  # 转学习形式
    SKIP_GRADE = "skip_grade"  # 跳级
    SUSPEND = "suspend"  # 休学
    RESUME = "resume"  # 复学
    WITHDRAW = "withdraw"  # 退学
    RESTORE = "restore"  # 恢复学籍
    DEREGISTER = "deregister"  # 注销
    DIE = "die"  # 死亡
    GO_ABROAD = "go_abroad"  # 出境
    RETURN_FROM_ABROAD = "return_from_abroad"  # 入境复学
    # Graduation (DOMAIN.md "Graduation and certificates"): the province's certificate ends the
    # record with one of three outcomes; a rollback voids it.
    GRADUATE = "graduate"  # 毕业
    COMPLETE = "complete"  # 结业
    LEAVE_WITHOUT_COMPLETING = "leave_without_completing"  # 肄业
    ROLL_BACK_GRADUATION = "roll_back_graduation"  # 撤销毕业


class TransitionNotAllowed(Exception):
    def __init__(self, state: StudentState, action: StudentAction) -> None:
        super().__init__(f"a student in status {state.value} cannot {action.value}")
        self.state = state
        self.action = action


# (from, action) -> to.
_S = StudentState
_A = StudentAction
# Statuses a student still belongs to the school in (the record is live, not ended).
_LIVE = (_S.IN_SCHOOL, _S.ON_LEAVE, _S.SUSPENDED, _S.SUSPECTED_DROPOUT, _S.DROPOUT, _S.ABROAD, _S.WITHDRAWN)
# Whom a release to another province may take: 跨省转学 (seed 002 §18: in school, on leave, left
# without completing, dropped out, abroad, withdrawn) and 毕业后跨省就学 (§19: graduated). The
# transfer service judges each kind's statuses (its domain/eligibility.py); this table only
# refuses a release no kind admits.
_RELEASABLE = (
    _S.IN_SCHOOL,
    _S.ON_LEAVE,
    _S.LEFT_WITHOUT_COMPLETING,
    _S.DROPOUT,
    _S.ABROAD,
    _S.WITHDRAWN,
    _S.GRADUATED,
)
# A move inside the province (seed 004 art. 12, 15) takes a student who studies; the status stays.
_MOVABLE = (_S.IN_SCHOOL, _S.ON_LEAVE)
# A student who studies graduates: in school, or on a short leave (请假) that runs into June —
# the course is complete either way. The certificates service lists only students in school;
# one who went on leave between the list and the issue must not strand the certificate.
# Suspended students graduate later, after resuming (DOMAIN.md), so 休学 is not here.
_GRADUATING = (_S.IN_SCHOOL, _S.ON_LEAVE)
_GRADUATION_OUTCOMES = {
    _A.GRADUATE: _S.GRADUATED,
    _A.COMPLETE: _S.COMPLETED,
    _A.LEAVE_WITHOUT_COMPLETING: _S.LEFT_WITHOUT_COMPLETING,
}
_TRANSITIONS: dict[tuple[StudentState, StudentAction], StudentState] = {
    **{(s, _A.TRANSFER_OUT): _S.TRANSFERRED_OUT for s in _RELEASABLE},
    **{(s, _A.MOVE_SCHOOL): s for s in _MOVABLE},
    (_S.TRANSFERRED_OUT, _A.TRANSFER_BACK_IN): _S.IN_SCHOOL,
    # Changes of the course of study: only a student who studies (在校) may make them.
    (_S.IN_SCHOOL, _A.REPEAT_YEAR): _S.IN_SCHOOL,
    (_S.IN_SCHOOL, _A.CHANGE_MAJOR): _S.IN_SCHOOL,
    (_S.IN_SCHOOL, _A.CHANGE_STUDY_FORM): _S.IN_SCHOOL,
    (_S.IN_SCHOOL, _A.SKIP_GRADE): _S.IN_SCHOOL,
    # 休学: also from leave (more than 15 days, DOMAIN.md "Registration rounds") and from the
    # check-in consequences (suspected dropout).
    (_S.IN_SCHOOL, _A.SUSPEND): _S.SUSPENDED,
    (_S.ON_LEAVE, _A.SUSPEND): _S.SUSPENDED,
    (_S.SUSPECTED_DROPOUT, _A.SUSPEND): _S.SUSPENDED,
    (_S.SUSPENDED, _A.RESUME): _S.IN_SCHOOL,
    **{(s, _A.WITHDRAW): _S.WITHDRAWN for s in _LIVE if s is not _S.WITHDRAWN},
    (_S.WITHDRAWN, _A.RESTORE): _S.IN_SCHOOL,
    (_S.DROPOUT, _A.RESTORE): _S.IN_SCHOOL,
    **{(s, _A.DEREGISTER): _S.DEREGISTERED for s in _LIVE},
    **{(s, _A.DIE): _S.DEAD for s in _LIVE},
    (_S.IN_SCHOOL, _A.GO_ABROAD): _S.ABROAD,
    (_S.SUSPENDED, _A.GO_ABROAD): _S.ABROAD,
    (_S.ABROAD, _A.RETURN_FROM_ABROAD): _S.IN_SCHOOL,
    **{(s, action): outcome for s in _GRADUATING for action, outcome in _GRADUATION_OUTCOMES.items()},
    # A rollback "returns the record to in school" (issue 8), whatever it graduated from.
    **{(outcome, _A.ROLL_BACK_GRADUATION): _S.IN_SCHOOL for outcome in _GRADUATION_OUTCOMES.values()},
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


def allowed_actions(state: StudentState) -> frozenset[StudentAction]:
    return frozenset(action for (source, action) in _TRANSITIONS if source is state)


def may_transfer_out(state: StudentState) -> bool:
    """DOMAIN.md "Transfers": whose record some kind of transfer may release to another province."""
    return (state, StudentAction.TRANSFER_OUT) in _TRANSITIONS


def is_frozen(state: StudentState) -> bool:
    return state in FROZEN_STATES
