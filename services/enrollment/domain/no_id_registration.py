"""Students without an ID (id_type "none", DOMAIN.md "Enrollment"): single entry only, with a
guardian's resident ID and uploaded evidence, approved by school, county, city and province;
the record becomes active, with a temporary number, only on the province's approval.

Temporary number format (临时学籍号), decided here and recorded in docs/adr/0008-one-review-mechanism.md:
"L" + the 2-digit province code + a 10-digit zero-padded number from the province's own
sequence (``L370000000042``). Unique inside a province by the sequence and across provinces by
the code; 13 characters, so never confused with a formal number ("G" + 18).
"""

from __future__ import annotations

from services.enrollment.domain.approval_chain import ReviewLevel
from services.enrollment.domain.registration import TEMPORARY_NUMBER_PREFIX

BUSINESS_TYPE = "registration_no_id"
REQUIRED_LEVELS: tuple[ReviewLevel, ...] = ("province",)  # whatever the configured chain says
SEQUENCE_DIGITS = 10


def temporary_student_number(province: str, sequence: int) -> str:
    if not (len(province) == 2 and province.isascii() and province.isdigit()):
        raise ValueError(f"province code must be 2 digits, got {province!r}")
    if not 0 < sequence < 10**SEQUENCE_DIGITS:
        raise ValueError(f"sequence {sequence} out of range")
    return f"{TEMPORARY_NUMBER_PREFIX}{province}{sequence:0{SEQUENCE_DIGITS}d}"
