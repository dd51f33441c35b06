"""Appeals (申诉) against misses and the prompt they raised (seed 001 四.2: "学生或学校对核验结果
… 有异议的，可以 … 向上级管理部门进行咨询和申诉，申诉通过的，恢复原学籍状态").

The superior decides: a student's appeal goes to their school (registrar or the leader who
reviews, 学籍主管领导); a school's appeal goes to its county bureau. Only a pending appeal can be
decided, once; accepting it excuses its misses and withdraws the prompts built on them.
"""

from __future__ import annotations

from enum import StrEnum

from shared.auth import SCHOOL_ROLES, Role


class Appellant(StrEnum):
    STUDENT = "student"
    SCHOOL = "school"


class AppealState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class AppealDecision(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class AppealAlreadyDecided(Exception):
    def __init__(self, state: AppealState) -> None:
        super().__init__(f"the appeal is already {state.value}")
        self.state = state


def appellant_for(role: Role) -> Appellant | None:
    """Who may lodge an appeal: the student about themselves, the school registrar about a
    student of the school; nobody else (a bureau is the one deciding, not appealing)."""
    if role is Role.STUDENT:
        return Appellant.STUDENT
    if role is Role.SCHOOL_REGISTRAR:
        return Appellant.SCHOOL
    return None


def may_decide(appellant: Appellant, school_code: str, county_code: str, role: Role, org: str) -> bool:
    """The level right above the appellant, for this student's school: the school for a
    student's appeal, the school's county bureau for the school's. Higher levels do not decide
    in its place (the appellant would lose a level of appeal)."""
    if appellant is Appellant.STUDENT:
        return role in SCHOOL_ROLES and org == school_code
    return role is Role.COUNTY and org == county_code


def decide(state: AppealState, decision: AppealDecision) -> AppealState:
    """The appeal's state after ``decision``; a decided appeal stays decided."""
    if state is not AppealState.PENDING:
        raise AppealAlreadyDecided(state)
    return AppealState.ACCEPTED if decision is AppealDecision.ACCEPT else AppealState.REJECTED
