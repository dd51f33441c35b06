"""What a certificate prints that only enrollment holds in full (seed 004 art. 17), for the
certificates service of this province: ``POST /internal/v1/certificate-facts`` with the service
token (shared/certificate_facts.py is the contract).

The full ID number leaves only here; it is never logged (the count is).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header
from sqlalchemy import select

from services.enrollment.domain.graduation import season_of_record, study_start
from services.enrollment.models import Major, School, Student
from services.enrollment.models.changes import Filing, StudentFiling
from shared.auth import require_service_token
from shared.certificate_facts import CertificateFacts, CertificateFactsAnswer, CertificateFactsRequest
from shared.china_time import CHINA
from shared.problems import PROBLEM_JSON
from shared.service import Context

router = APIRouter(tags=["internal"])
log = logging.getLogger(__name__)

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No or wrong service token (Authorization: Service <token>)", **_PROBLEM},
    422: {"description": "No ids, or more than one request may ask for", **_PROBLEM},
}


@router.post(
    "/internal/v1/certificate-facts",
    summary="The certificate facts of students (services only; full ID numbers)",
    responses=RESPONSES,
)
async def certificate_facts(
    body: CertificateFactsRequest, ctx: Context, authorization: Annotated[str | None, Header()] = None
) -> CertificateFactsAnswer:
    require_service_token(ctx.settings.service_token, authorization)
    wanted = list(dict.fromkeys(body.student_ids))  # a repeated id is answered once
    async with ctx.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Student, School.name, Major.name, Filing.season)
                .join(School, School.code == Student.school_code)
                # The catalogue may not list a transferred-in student's major (no foreign key).
                .outerjoin(Major, Major.code == Student.major_code)
                .outerjoin(StudentFiling, StudentFiling.student_id == Student.id)
                .outerjoin(Filing, Filing.id == StudentFiling.filing_id)
                .where(Student.id.in_(wanted), Student.province_code == ctx.settings.province)
            )
        ).all()
    facts = {
        student.id: _facts_of(student, school_name, major_name, filed_season)
        for student, school_name, major_name, filed_season in rows
    }
    unknown = [i for i in wanted if i not in facts]
    log.info("certificate facts: %d answered, %d unknown", len(facts), len(unknown))
    return CertificateFactsAnswer(facts=[facts[i] for i in wanted if i in facts], unknown=unknown)


def _facts_of(
    student: Student, school_name: str, major_name: str | None, filed_season: str | None
) -> CertificateFacts:
    # The record holds the entry year only, no admission date: the first day of study is the
    # term start of its intake (domain/graduation.py study_start).
    registered_on = student.created_at.astimezone(CHINA).date()
    season = season_of_record(student.grade, filed_season, registered_on)
    return CertificateFacts.model_validate(
        {
            "student_id": student.id,
            "name": student.name,
            "sex": student.sex,
            "birth_date": student.birth_date,
            "id_type": student.id_type,
            "id_number": student.id_number,
            "study_start": study_start(student.grade, season),
            "study_length": student.study_length,
            "study_form": student.study_form,
            "major_code": student.major_code,
            # An empty name (major not in the catalogue) lets certificates block the student
            # rather than print a wrong major.
            "major_name": major_name or "",
            # Neither the record nor the catalogue holds a skill direction (专业技能方向) yet.
            "skill_direction": None,
            "school_name": school_name,
        }
    )
