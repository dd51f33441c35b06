"""Showing student numbers: a formal number is "G" + the full resident ID, so it is masked
wherever an ID number would be (DOMAIN.md "Organisation tree and roles": IDs shown masked)."""

from __future__ import annotations

from services.enrollment.domain.registration import resident_id_in_number
from shared.idnumber import mask_id_number


def mask_student_number(student_number: str) -> str:
    embedded = resident_id_in_number(student_number)
    if embedded is None:
        return student_number  # a temporary number (L…) carries no ID number
    return student_number[0] + mask_id_number(embedded)
