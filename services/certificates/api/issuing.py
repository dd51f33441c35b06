"""Issuing and reading certificates: the province issues an approved graduation list (seed 004
art. 17, from 11 June); schools, bureaus and the graduate read certificates, masked; the graduate
(or the school or bureau over it) downloads the signed electronic certificate, audited.

Every query carries the caller's jurisdiction (``CERTIFICATE_COLUMNS``): a certificate outside it
answers 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.audit import record_audit
from services.certificates.domain.certificate_number import InvalidCertificateNumber, format_grouped, parse
from services.certificates.issuing import issue_list
from services.certificates.models import CERTIFICATE_COLUMNS, Certificate, ElectronicCertificate
from services.certificates.startup import pdf_signer_of
from shared.auth import BUREAU_ROLES, SCHOOL_ROLES, CurrentPrincipal, Principal, Role, require_role
from shared.idnumber import mask_id_number
from shared.jurisdiction import jurisdiction_filter
from shared.problems import PROBLEM_JSON, Problem, conflict, field_problem, forbidden, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["certificates"])

_PROBLEM: dict[str, Any] = {"content": {PROBLEM_JSON: {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not signed in", **_PROBLEM},
    403: {"description": "Not yours to do", **_PROBLEM},
    404: {"description": "Not found in your jurisdiction", **_PROBLEM},
    409: {"description": "The state does not allow it", **_PROBLEM},
    422: {"description": "A field is invalid", **_PROBLEM},
    503: {"description": "A service this needs is not available", **_PROBLEM},
}

# Who reads certificates: the graduate their own, schools and bureaus theirs (the jurisdiction
# filter says which). The ministry arbitrates problem records, not certificates.
READERS = (*SCHOOL_ROLES, *BUREAU_ROLES, Role.STUDENT)

CertificateStatus = Literal["valid", "voided", "lost"]


class IssuedItem(BaseModel):
    certificate_id: str
    student_id: str
    number: str


class IssueResult(BaseModel):
    list_id: str
    issued_on: date
    certificates: list[IssuedItem]


class CertificateView(BaseModel):
    """A certificate as anyone but the printer sees it: the ID number masked."""

    id: str
    number: str
    number_grouped: str
    kind: str
    status: str
    student_id: str
    name: str
    id_number_masked: str
    school_code: str
    school_name: str
    graduating_year: int
    outcome: str
    major_name: str
    skill_direction: str | None
    study_start: date
    study_end: date
    issued_on: date
    replaces_id: str | None
    qr_url: str
    electronic: bool  # the signed PDF is ready to download


class CertificateList(BaseModel):
    items: list[CertificateView]
    total: int


def certificate_view(row: Certificate, electronic: bool) -> CertificateView:
    face = row.face
    return CertificateView(
        id=row.id,
        number=row.number,
        number_grouped=format_grouped(row.number),
        kind=row.kind,
        status=row.status,
        student_id=row.student_id,
        name=row.name,
        id_number_masked=mask_id_number(face["id_number"]),
        school_code=row.school_code,
        school_name=face["school_name"],
        graduating_year=row.graduating_year,
        outcome=row.outcome,
        major_name=face["major_name"],
        skill_direction=face.get("skill_direction"),
        study_start=date.fromisoformat(face["study_start"]),
        study_end=date.fromisoformat(face["study_end"]),
        issued_on=row.issued_on,
        replaces_id=row.replaces_id,
        qr_url=row.qr_url,
        electronic=electronic,
    )


def _has_electronic() -> Any:
    return exists().where(ElectronicCertificate.certificate_id == Certificate.id).label("electronic")


async def _views(session: AsyncSession, query: Select[tuple[Certificate, bool]]) -> list[CertificateView]:
    return [certificate_view(row, electronic) for row, electronic in (await session.execute(query)).all()]


async def visible_certificate(
    session: AsyncSession, certificate_id: str, principal: Principal
) -> tuple[Certificate, bool]:
    found = (
        await session.execute(
            select(Certificate, _has_electronic()).where(
                Certificate.id == certificate_id, jurisdiction_filter(principal, CERTIFICATE_COLUMNS)
            )
        )
    ).first()
    if found is None:
        raise not_found("certificate")
    return found[0], bool(found[1])


@router.post(
    "/graduation-lists/{list_id}/issue",
    summary="Issue the certificates of an approved graduation list (province, from 11 June)",
    responses=PROBLEMS,
)
async def issue(list_id: str, principal: CurrentPrincipal, ctx: Context) -> IssueResult:
    require_role(principal, Role.PROVINCE)
    if principal.org != ctx.settings.province:
        raise forbidden(f"certificates of province {ctx.settings.province} are issued by its own office")
    on = ctx.today()
    async with ctx.uow() as uow:
        issued = await issue_list(ctx, uow, list_id, principal, on)
        await uow.commit()
    return IssueResult(
        list_id=list_id,
        issued_on=on,
        certificates=[
            IssuedItem(certificate_id=c.id, student_id=c.student_id, number=c.number) for c in issued
        ],
    )


@router.get(
    "/certificates", summary="Certificates in your jurisdiction (ID numbers masked)", responses=PROBLEMS
)
async def list_certificates(
    principal: CurrentPrincipal,
    ctx: Context,
    school: str | None = Query(None, pattern=r"^[0-9]{10}$"),
    year: int | None = Query(None, ge=1990, le=2200),
    status: CertificateStatus | None = None,
    number: str | None = Query(None, max_length=60),
    limit: int = Query(100, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> CertificateList:
    require_role(principal, *READERS)
    conditions = [jurisdiction_filter(principal, CERTIFICATE_COLUMNS)]
    if school is not None:
        conditions.append(Certificate.school_code == school)
    if year is not None:
        conditions.append(Certificate.graduating_year == year)
    if status is not None:
        conditions.append(Certificate.status == status)
    if number is not None:
        try:
            conditions.append(Certificate.number == parse(number).text)
        except InvalidCertificateNumber as error:
            raise field_problem("number", str(error), "证书编号有误") from error
    async with ctx.sessionmaker() as session:
        total = await session.scalar(select(func.count()).select_from(Certificate).where(*conditions))
        items = await _views(
            session,
            select(Certificate, _has_electronic())
            .where(*conditions)
            .order_by(Certificate.school_code, Certificate.number)
            .limit(limit)
            .offset(offset),
        )
    return CertificateList(items=items, total=total or 0)


@router.get("/my/certificates", summary="My certificates (graduates)", responses=PROBLEMS)
async def my_certificates(principal: CurrentPrincipal, ctx: Context) -> CertificateList:
    require_role(principal, Role.STUDENT)
    async with ctx.sessionmaker() as session:
        items = await _views(
            session,
            select(Certificate, _has_electronic())
            .where(jurisdiction_filter(principal, CERTIFICATE_COLUMNS))
            .order_by(Certificate.issued_on, Certificate.id),
        )
    return CertificateList(items=items, total=len(items))


@router.get(
    "/certificates/{certificate_id}", summary="One certificate (ID number masked)", responses=PROBLEMS
)
async def get_certificate(certificate_id: str, principal: CurrentPrincipal, ctx: Context) -> CertificateView:
    require_role(principal, *READERS)
    async with ctx.sessionmaker() as session:
        row, electronic = await visible_certificate(session, certificate_id, principal)
        return certificate_view(row, electronic)


@router.get(
    "/certificates/{certificate_id}/electronic.pdf",
    summary="The signed electronic certificate (电子证照), audited",
    responses={**PROBLEMS, 200: {"content": {"application/pdf": {}}, "description": "The signed PDF"}},
    response_class=Response,
)
async def electronic_pdf(certificate_id: str, principal: CurrentPrincipal, ctx: Context) -> Response:
    require_role(principal, *READERS)
    async with ctx.uow() as uow:
        certificate, _ = await visible_certificate(uow.session, certificate_id, principal)
        if certificate.status != "valid":
            # The signed PDF states a certificate in force; one voided or replaced since is not
            # handed out as if it were (verification says what became of it).
            raise conflict(f"the certificate is {certificate.status}", slug="certificate-not-valid")
        pdf = await uow.session.scalar(
            select(ElectronicCertificate.pdf).where(ElectronicCertificate.certificate_id == certificate.id)
        )
        if pdf is None:
            if pdf_signer_of(ctx) is None:
                raise Problem(
                    503,
                    "Electronic certificates not configured",
                    detail="no signing certificate is configured: electronic certificates are not made yet",
                )
            raise not_found("electronic certificate (it is made within minutes of issuing)")
        await record_audit(
            uow.session, principal, "download_electronic", certificate.id, {"number": certificate.number}
        )
        await uow.commit()
    filename = f"certificate-{certificate.number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
