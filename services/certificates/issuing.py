"""Issuing certificates (seed 004 art. 17: 每年6月11日开始，省教育厅…为中职毕业生办理毕业证书).

The province issues an approved graduation list in one unit of work: enrollment's facts for every
student on it, one number each, one certificate row each (its face, the full ID number included,
and its sealed QR payload), the entries and the list marked issued, and one ``StudentGraduated``
per student in the outbox. Nothing is issued unless everything is: a list with a student
enrollment does not know is refused whole, naming them, so a school never receives half a list.

The list's row is locked for the whole unit of work, so two clicks on "issue" (or two provinces'
officers) serialise: the second finds the list issued and is refused; the partial unique index on
live entries is the last guard against a student graduating twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select

from services.certificates.audit import record_audit
from services.certificates.domain.certificate_face import (
    education_certificate_face,
    face_from_json,
    face_to_json,
    graduation_face,
    qr_claims,
)
from services.certificates.domain.certificate_number import Series
from services.certificates.keys import PayloadKey, payload_key
from services.certificates.models import Certificate, GraduationEntry, GraduationList, new_id
from services.certificates.numbers import allocate_numbers, number_key
from services.certificates.peers import PeerUnavailable
from services.certificates.printing.face import CertificateFace
from services.certificates.signing.qr_payload import seal
from services.certificates.startup import peers_of
from shared.auth import Principal
from shared.bus.unit_of_work import Emission, UnitOfWork
from shared.events.certificates import StudentGraduated
from shared.events.common import Lineage
from shared.problems import FieldIssue, Problem, conflict, not_found
from shared.service import ServiceContext

log = logging.getLogger(__name__)


def first_issue_day(graduating_year: int, issue_from: str) -> date:
    """The first day certificates of ``graduating_year`` may be issued (``MM-DD``, 06-11)."""
    month, day = (int(part) for part in issue_from.split("-"))
    return date(graduating_year, month, day)


@dataclass(frozen=True)
class IssuedCertificate:
    id: str
    student_id: str
    number: str


def _refuse_unknown(unknown: Sequence[str]) -> Problem:
    return Problem(
        409,
        "Students unknown to enrollment",
        title_zh="学籍系统中查无以下学生，本名单不能发证",
        slug="students-unknown",
        detail=f"enrollment holds no record of {len(unknown)} student(s) on the list: nothing was issued",
        errors=[
            FieldIssue(
                "student_id", f"{student_id}: not known to enrollment", f"{student_id}：学籍系统中查无此人"
            )
            for student_id in unknown
        ],
    )


async def issue_list(
    ctx: ServiceContext, uow: UnitOfWork, list_id: str, principal: Principal, on: date
) -> list[IssuedCertificate]:
    """Issue every student of an approved list on ``on``; the caller commits ``uow``."""
    session = uow.session
    graduation_list = await session.scalar(
        select(GraduationList)
        .where(GraduationList.id == list_id, GraduationList.province == principal.province)
        .with_for_update()
    )
    if graduation_list is None:
        raise not_found("graduation list")
    if graduation_list.state == "issued":
        raise conflict("the list was issued already; its certificates exist", slug="already-issued")
    if graduation_list.state != "approved":
        raise conflict(
            f"the list is {graduation_list.state}: only an approved list is issued", slug="list-not-approved"
        )
    opens = first_issue_day(graduation_list.graduating_year, ctx.settings.certificate_issue_from)
    if on < opens:
        raise conflict(
            f"certificates of {graduation_list.graduating_year} are issued from {opens.isoformat()}"
            f" (seed 004 art. 17), not on {on.isoformat()}",
            slug="before-issue-day",
        )
    entries = list(
        await session.scalars(
            select(GraduationEntry)
            .where(GraduationEntry.list_id == list_id, GraduationEntry.state == "listed")
            .order_by(GraduationEntry.id)
        )
    )
    if not entries:
        raise conflict("the list has no student left to issue", slug="list-empty")
    try:
        facts = await peers_of(ctx).certificate_facts([e.student_id for e in entries])
    except PeerUnavailable as error:
        raise Problem(503, "Enrollment unavailable", detail=f"{error}; try again shortly") from error
    unknown = [e.student_id for e in entries if e.student_id not in facts]
    if unknown:
        raise _refuse_unknown(unknown)

    numbers = await allocate_numbers(
        session,
        series=Series.graduation,
        year=graduation_list.graduating_year,
        region=graduation_list.county,
        school_code=graduation_list.school_code,
        count=len(entries),
        key=number_key(ctx.settings),
    )
    key = payload_key(ctx.settings)
    lineage = Lineage(
        province=graduation_list.province,
        city=graduation_list.city,
        county=graduation_list.county,
        school=graduation_list.school_code,
    )
    issued: list[IssuedCertificate] = []
    emissions: list[Emission] = []
    unprintable: list[FieldIssue] = []
    for entry, number in zip(entries, numbers, strict=True):
        try:
            face = graduation_face(
                facts[entry.student_id],
                outcome=entry.outcome,
                number=number,
                issued_on=on,
                graduating_year=graduation_list.graduating_year,
                province=graduation_list.province,
            )
        except ValueError as error:
            # Facts no certificate can print (study starting after it ends, a study length
            # with no wording): the record needs correcting at enrollment first.
            unprintable.append(
                FieldIssue(
                    "student_id",
                    f"{entry.student_id}: {error}",
                    f"{entry.student_id}：学籍信息无法印制证书（{error}）",
                )
            )
            continue
        certificate = _certificate_row(face, key, ctx, graduation_list, entry.student_id, entry.outcome)
        certificate.entry_id = entry.id
        session.add(certificate)
        entry.state, entry.certificate_id, entry.graduated_on = "issued", certificate.id, on
        issued.append(IssuedCertificate(certificate.id, entry.student_id, number))
        emissions.append(
            Emission(
                StudentGraduated(
                    student_id=entry.student_id,
                    lineage=lineage,
                    outcome=entry.outcome,
                    graduation_list_id=list_id,
                    certificate_number=number,
                    graduated_on=on,
                ),
                subject=entry.student_id,
            )
        )
    if unprintable:
        # Raised after the loop so every such student is named at once; the numbers drawn roll
        # back with the unit of work.
        raise Problem(
            409,
            "Records that cannot be printed",
            title_zh="以下学生的学籍信息无法印制证书",
            slug="facts-unprintable",
            detail=f"{len(unprintable)} record(s) must be corrected at enrollment first: nothing was issued",
            errors=unprintable,
        )
    graduation_list.state = "issued"
    graduation_list.issued_at = datetime.now(UTC)
    graduation_list.issued_by = principal.account_id
    await session.flush()
    await uow.emit_many(emissions)
    await record_audit(
        session,
        principal,
        "issue_list",
        list_id,
        {
            "school": graduation_list.school_code,
            "year": graduation_list.graduating_year,
            "count": len(issued),
        },
    )
    return issued


def _certificate_row(
    face: CertificateFace,
    key: PayloadKey,
    ctx: ServiceContext,
    where: GraduationList | Certificate,
    student_id: str,
    outcome: str,
) -> Certificate:
    school = where.school_code
    return Certificate(
        id=new_id(),
        number=face.number,
        kind=face.kind,
        student_id=student_id,
        province=where.province,
        city=where.city,
        county=where.county,
        school_code=school,
        graduating_year=where.graduating_year,
        name=face.name,
        outcome=outcome,
        face=face_to_json(face),
        qr_url=seal(
            qr_claims(face, where.province), key.key, key.kid, base_url=ctx.settings.certificate_verify_url
        ),
        status="valid",
        issued_on=face.issued_on,
    )


async def issue_education_certificate(
    ctx: ServiceContext, uow: UnitOfWork, original: Certificate, on: date
) -> Certificate:
    """A 学历证明书 replacing a lost certificate (seed 004 art. 19): its own number in series 2,
    the original's fields, its own QR; the original is marked lost. The caller holds the
    original's row lock and has checked it may be replaced."""
    (number,) = await allocate_numbers(
        uow.session,
        series=Series.education_certificate,
        year=original.graduating_year,
        region=original.county,
        school_code=original.school_code,
        count=1,
        key=number_key(ctx.settings),
    )
    face = education_certificate_face(face_from_json(original.face), number=number, issued_on=on)
    replacement = _certificate_row(
        face, payload_key(ctx.settings), ctx, original, original.student_id, original.outcome
    )
    replacement.entry_id, replacement.replaces_id = original.entry_id, original.id
    uow.session.add(replacement)
    original.status, original.lost_at = "lost", datetime.now(UTC)
    await uow.session.flush()
    return replacement
