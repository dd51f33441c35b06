"""Events the certificates service publishes (issue 8).

Enrollment applies them to the record (status, history); identity follows the status change
enrollment announces (the retention clock of biometric data starts at graduation).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from shared.events.common import Lineage
from shared.events.envelope import EventPayload

# What the school decided for each student on its graduation list (毕业 / 结业 / 肄业); the
# values are enrollment's status names.
GraduationOutcome = Literal["graduated", "completed", "left_without_completing"]
CertificateKind = Literal["graduation", "education_certificate"]


class StudentGraduated(EventPayload):
    """The province issued the certificate of a student on an approved graduation list."""

    event_type = "certificates.student.graduated"

    student_id: str
    lineage: Lineage
    outcome: GraduationOutcome
    graduation_list_id: str
    certificate_number: str
    graduated_on: date


class GraduationRolledBack(EventPayload):
    """A graduation was undone (within half a year by the supervising bureau, later only by the
    province): the certificate is void and the record returns to in school."""

    event_type = "certificates.graduation.rolled_back"

    student_id: str
    lineage: Lineage
    graduation_list_id: str
    certificate_number: str
    reason: str = Field(min_length=1)
    rolled_back_by_level: Literal["city", "county", "province"]
