"""Which way a student is verified (DESIGN.md "Faces"; issue 4, item 3): server-side face
processing needs the student's separate, recorded consent, and face is never the only way —
a student who declines is verified in person by the counselor, recorded as such."""

from __future__ import annotations

from enum import StrEnum


class ConsentDecision(StrEnum):
    GRANTED = "granted"
    DECLINED = "declined"


class VerificationRoute(StrEnum):
    UNDECIDED = "undecided"  # no consent decision yet: neither route may start
    FACE = "face"
    IN_PERSON = "in_person"


def verification_route(decision: ConsentDecision | None) -> VerificationRoute:
    if decision is None:
        return VerificationRoute.UNDECIDED
    return VerificationRoute.FACE if decision is ConsentDecision.GRANTED else VerificationRoute.IN_PERSON


def may_capture_face(decision: ConsentDecision | None) -> bool:
    return verification_route(decision) is VerificationRoute.FACE


def may_verify_in_person(decision: ConsentDecision | None) -> bool:
    return verification_route(decision) is VerificationRoute.IN_PERSON
