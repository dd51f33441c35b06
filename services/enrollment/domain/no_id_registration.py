"""Students without an ID (id_type "none", DOMAIN.md "Enrollment"): single entry only, with a
guardian's resident ID and uploaded evidence, approved by school, county, city and province;
the record becomes active, with a temporary number, only on the province's approval.

The record gets the same temporary number (临时学籍号) as every other path:
``domain.registration.temporary_student_number`` (ADR 0009).
"""

from __future__ import annotations

from services.enrollment.domain.approval_chain import ReviewLevel

BUSINESS_TYPE = "registration_no_id"
REQUIRED_LEVELS: tuple[ReviewLevel, ...] = ("province",)  # whatever the configured chain says
