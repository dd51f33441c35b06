"""What a certificate prints that only enrollment knows in full (seed 004 art. 17).

Enrollment answers ``POST /internal/v1/certificate-facts`` (service token) with these for the
students certificates is about to issue to; certificates prints them and keeps them with the
certificate. The full ID number travels only here, inside the province, never in an event.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.events.common import IdType, StudyForm

MAX_STUDENTS_PER_REQUEST = 1000


StudentId = Annotated[str, Field(min_length=1, max_length=40)]


class CertificateFactsRequest(BaseModel):
    student_ids: list[StudentId] = Field(min_length=1, max_length=MAX_STUDENTS_PER_REQUEST)


class CertificateFacts(BaseModel):
    """One student's record as the certificate prints it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    student_id: str
    name: str
    sex: Literal["M", "F"] | None
    birth_date: date | None
    id_type: IdType
    id_number: str | None = Field(description="in full: the certificate prints it")
    study_start: date = Field(description="the first day of study (admission)")
    study_length: float
    study_form: StudyForm
    major_code: str | None
    major_name: str
    skill_direction: str | None = None
    school_name: str


class CertificateFactsAnswer(BaseModel):
    facts: list[CertificateFacts]
    unknown: list[str] = Field(default_factory=list, description="student ids enrollment does not hold")
