"""An account's lifecycle as the student's record moves (DOMAIN.md "Organisation tree and roles":
five account kinds; "Transfers": the record leaves one province and arrives in another).

A student's account is opened by enrollment's events, not by a person: the student then
activates it (issue 4: real-name check, face capture), which is the only way to ``ACTIVE``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AccountState(StrEnum):
    ACTIVE = "active"
    NOT_ACTIVATED = "not_activated"  # opened for a student who has not activated it: no password
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class StudentEnrolled:
    """The student's record now lives here: registered, or transferred in."""


@dataclass(frozen=True)
class StudentLeft:
    """The record was released to another province (transferred out)."""


@dataclass(frozen=True)
class Activated:
    """The student passed the real-name check and the phone code and set a password."""


class ActivationNotAllowed(Exception):
    """Only an account that is open and not yet activated can be activated."""


StudentAccountAction = StudentEnrolled | StudentLeft | Activated


def transition(state: AccountState | None, action: StudentAccountAction) -> AccountState:
    """The account state after an enrollment event; ``None`` is "no account yet".

    Arriving (again) opens the account as not activated — a student coming back after a transfer
    out activates afresh at the new school — except that an account already activated stays
    active: a repeated registration must not lock a student out. Leaving always deactivates,
    even before the account existed (the events may arrive out of order).
    """
    match action:
        case StudentEnrolled():
            return AccountState.ACTIVE if state is AccountState.ACTIVE else AccountState.NOT_ACTIVATED
        case StudentLeft():
            return AccountState.DEACTIVATED
        case Activated():
            if state is not AccountState.NOT_ACTIVATED:
                raise ActivationNotAllowed(f"an account that is {state} cannot be activated")
            return AccountState.ACTIVE


def may_sign_in(state: AccountState | None, password_matches: bool) -> bool:
    """Only an active account with the right password gets a token. The caller tells every other
    case apart from nothing: one answer for unknown, wrong, not activated and deactivated."""
    return state is AccountState.ACTIVE and password_matches
