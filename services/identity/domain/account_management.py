"""Who may create, reset and cancel which accounts (DOMAIN.md "Organisation tree and roles";
issue 4, item 1: registrars create counselor accounts and assign counselors; bureaus create
their schools' registrar accounts; a registrar resets a password or cancels an account).
"""

from __future__ import annotations

from shared.auth import BUREAU_ROLES, Role

# The role a creator may create, and at which level of the tree it must sit.
CREATABLE: dict[Role, frozenset[Role]] = {
    Role.SCHOOL_REGISTRAR: frozenset({Role.COUNSELOR}),
    Role.PROVINCE: frozenset({Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER}),
    Role.CITY: frozenset({Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER}),
    Role.COUNTY: frozenset({Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER}),
}


def may_create(creator: Role, new_role: Role) -> bool:
    return new_role in CREATABLE.get(creator, frozenset())


def may_manage(manager: Role, target: Role) -> bool:
    """Reset a password or cancel: a registrar for the school's counselors and students, a
    bureau for the registrars and leaders of its schools. Nobody manages their peers."""
    if manager is Role.SCHOOL_REGISTRAR:
        return target in (Role.COUNSELOR, Role.STUDENT)
    if manager in BUREAU_ROLES:
        return target in (Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER)
    return False
