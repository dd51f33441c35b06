"""Records written straight into the tables, for tests about what comes after them: a graduation
list as the review leaves it (approved, or any state a test names), for issuing and printing; a
certificate as issuing leaves it (its face, a number, a QR sealed with the province's key), for
printing, verification, rollback and the API's contract."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date

from services.certificates.domain.certificate_face import (
    education_certificate_face,
    face_to_json,
    graduation_face,
    qr_claims,
)
from services.certificates.domain.certificate_number import Series, compose
from services.certificates.keys import payload_key
from services.certificates.models import Certificate, GraduationEntry, GraduationList
from services.certificates.printing.face import CertificateKind
from services.certificates.signing.qr_payload import seal
from services.certificates.tests.integration.conftest import PROVINCE, SCHOOL_NAME, Area, RunningCertificates
from shared.events.common import StudentSummary

# Serials for the numbers of inserted certificates, unique in the test process. They start high so
# a test that also issues through the service (whose counter starts at 1) never meets one of them.
_serials = itertools.count(90_000)


async def approved_list(
    running: RunningCertificates,
    area: Area,
    students: Sequence[StudentSummary],
    *,
    outcomes: Sequence[str] | None = None,
    state: str = "approved",
    year: int = 2027,
) -> str:
    """The list's id; each student is listed with ``outcomes[n]``, or as graduated."""
    async with running.ctx.sessionmaker() as session:
        graduation_list = GraduationList(
            province=PROVINCE,
            city=area.city,
            county=area.county,
            school_code=area.school,
            school_name=SCHOOL_NAME,
            graduating_year=year,
            state=state,
            levels=["county", "city"],
            level_index=2,
            submitted_by="registrar",
        )
        session.add(graduation_list)
        await session.flush()
        for n, student in enumerate(students):
            session.add(
                GraduationEntry(
                    list_id=graduation_list.id,
                    student_id=student.student_id,
                    outcome=outcomes[n] if outcomes else "graduated",
                    state="listed",
                )
            )
        await session.commit()
        return graduation_list.id


async def issued_certificate(
    running: RunningCertificates,
    student: StudentSummary,
    *,
    kind: CertificateKind = "graduation",
    status: str = "valid",
    issued_on: date = date(2027, 6, 11),
    year: int | None = None,
    number: str | None = None,
    entry_id: str | None = None,
    replaces_id: str | None = None,
) -> Certificate:
    """``student``'s certificate (at the student's school, under the student's name) as issuing
    writes it: the face built from the facts enrollment would answer, a real number of the
    graduating ``year`` (``issued_on``'s year unless given) unless ``number`` is given, the QR sealed
    with the province's payload key. A ``kind`` of education_certificate is the 学历证明书 that
    replaces ``replaces_id``, saying what the certificate it replaces said."""
    graduating_year = year or issued_on.year
    lineage = student.lineage
    series = Series.graduation if kind == "graduation" else Series.education_certificate
    number = number or compose(graduating_year, lineage.county, lineage.school, series, next(_serials))
    face = graduation_face(
        running.facts_for(student),
        outcome="graduated",
        number=number,
        issued_on=issued_on,
        graduating_year=graduating_year,
        province=PROVINCE,
    )
    if kind == "education_certificate":
        face = education_certificate_face(face, number=number, issued_on=issued_on)
    key = payload_key(running.settings)
    certificate = Certificate(
        number=number,
        kind=kind,
        student_id=student.student_id,
        entry_id=entry_id,
        replaces_id=replaces_id,
        province=PROVINCE,
        city=lineage.city,
        county=lineage.county,
        school_code=lineage.school,
        graduating_year=graduating_year,
        name=student.name,
        outcome="graduated",
        face=face_to_json(face),
        qr_url=seal(
            qr_claims(face, PROVINCE), key.key, key.kid, base_url=running.settings.certificate_verify_url
        ),
        status=status,
        issued_on=issued_on,
    )
    async with running.ctx.sessionmaker() as session:
        session.add(certificate)
        await session.commit()
    return certificate
