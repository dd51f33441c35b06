"""学历证明书 (seed 004 art. 19: 毕业证书遗失不予补办，毕业生可…申请学历证明书。学历证明书与毕业证书具有
同等效力): a graduate who lost the certificate applies with an account of the loss; the school's
registrar or the county bureau over it decides. Issuing marks the original lost and makes a new
certificate of kind ``education_certificate``: its own number series, the same fields, its own QR.

One open application per certificate (a partial unique index; the check before it only gives a
clearer answer). A voided certificate is not replaced: there is nothing in force to attest.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.certificates.api.issuing import PROBLEMS, READERS
from services.certificates.audit import record_audit
from services.certificates.issuing import issue_education_certificate
from services.certificates.models import (
    CERTIFICATE_COLUMNS,
    EDUCATION_REQUEST_COLUMNS,
    Certificate,
    EducationCertificateRequest,
)
from shared.auth import CurrentPrincipal, Role, require_role
from shared.jurisdiction import jurisdiction_filter
from shared.problems import conflict, not_found
from shared.service import Context
from shared.text import PlainText

router = APIRouter(prefix="/api/v1", tags=["education certificates"])

# Art. 19 names no reviewer; the school that taught the graduate, or the county bureau over it,
# knows the record and decides.
DECIDERS = (Role.SCHOOL_REGISTRAR, Role.COUNTY)

RequestState = Literal["requested", "issued", "rejected"]


class ApplyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate_id: PlainText = Field(min_length=1, max_length=40)
    statement: PlainText = Field(min_length=1, max_length=2000, description="how the certificate was lost")

    @field_validator("statement")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("say how the certificate was lost")
        return value


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["issue", "reject"]
    opinion: PlainText = Field("", max_length=2000)

    @model_validator(mode="after")
    def _a_rejection_says_why(self) -> DecisionBody:
        if self.decision == "reject" and not self.opinion.strip():
            raise ValueError("a rejection gives its reason in opinion")
        return self


class RequestView(BaseModel):
    id: str
    certificate_id: str
    certificate_number: str
    student_id: str
    name: str
    school_code: str
    state: str
    statement: str
    opinion: str | None
    issued_certificate_id: str | None
    issued_certificate_number: str | None
    created_at: datetime
    decided_at: datetime | None


class RequestList(BaseModel):
    items: list[RequestView]


def _view(
    request: EducationCertificateRequest, original: Certificate, issued: Certificate | None
) -> RequestView:
    return RequestView(
        id=request.id,
        certificate_id=request.certificate_id,
        certificate_number=original.number,
        student_id=request.student_id,
        name=original.name,
        school_code=request.school_code,
        state=request.state,
        statement=request.statement,
        opinion=request.opinion,
        issued_certificate_id=request.issued_certificate_id,
        issued_certificate_number=issued.number if issued else None,
        created_at=request.created_at,
        decided_at=request.decided_at,
    )


def _one_open_request() -> Exception:
    return conflict("this certificate already has an application under review", slug="request-open")


def _not_replaceable(certificate: Certificate) -> Exception:
    if certificate.status == "voided":
        return conflict("a voided certificate is not replaced by a 学历证明书", slug="certificate-voided")
    return conflict("the certificate was reported lost and replaced already", slug="certificate-lost")


@router.post(
    "/education-certificate-requests",
    status_code=201,
    summary="Apply for a 学历证明书 after losing the certificate (graduate)",
    responses=PROBLEMS,
)
async def apply(body: ApplyBody, principal: CurrentPrincipal, ctx: Context) -> RequestView:
    require_role(principal, Role.STUDENT)
    async with ctx.uow() as uow:
        certificate = await uow.session.scalar(
            select(Certificate).where(
                Certificate.id == body.certificate_id, jurisdiction_filter(principal, CERTIFICATE_COLUMNS)
            )
        )
        if certificate is None:
            raise not_found("certificate")
        if certificate.status != "valid":
            raise _not_replaceable(certificate)
        request = EducationCertificateRequest(
            certificate_id=certificate.id,
            student_id=certificate.student_id,
            province=certificate.province,
            city=certificate.city,
            county=certificate.county,
            school_code=certificate.school_code,
            state="requested",
            statement=body.statement,
            applied_by=principal.account_id,
        )
        uow.session.add(request)
        try:
            await uow.session.flush()
        except IntegrityError as error:
            raise _one_open_request() from error
        await uow.session.refresh(request)
        await uow.commit()
        return _view(request, certificate, None)


@router.get(
    "/education-certificate-requests",
    summary="Applications for a 学历证明书 in your jurisdiction",
    responses=PROBLEMS,
)
async def list_requests(
    principal: CurrentPrincipal,
    ctx: Context,
    state: RequestState | None = None,
    limit: int = Query(200, ge=1, le=500),
) -> RequestList:
    require_role(principal, *READERS)
    query = (
        select(EducationCertificateRequest, Certificate)
        .join(Certificate, Certificate.id == EducationCertificateRequest.certificate_id)
        .where(jurisdiction_filter(principal, EDUCATION_REQUEST_COLUMNS))
        .order_by(EducationCertificateRequest.created_at, EducationCertificateRequest.id)
        .limit(limit)
    )
    if state is not None:
        query = query.where(EducationCertificateRequest.state == state)
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(query)).all()
        issued_ids = [r.issued_certificate_id for r, _ in rows if r.issued_certificate_id]
        issued = {
            c.id: c for c in await session.scalars(select(Certificate).where(Certificate.id.in_(issued_ids)))
        }
    return RequestList(
        items=[_view(r, c, issued.get(r.issued_certificate_id or "")) for r, c in rows],
    )


@router.post(
    "/education-certificate-requests/{request_id}/decision",
    summary="Issue the 学历证明书 or reject the application (school registrar, county bureau)",
    responses=PROBLEMS,
)
async def decide(
    request_id: str, body: DecisionBody, principal: CurrentPrincipal, ctx: Context
) -> RequestView:
    require_role(principal, *DECIDERS)
    async with ctx.uow() as uow:
        request = await uow.session.scalar(
            select(EducationCertificateRequest)
            .where(
                EducationCertificateRequest.id == request_id,
                jurisdiction_filter(principal, EDUCATION_REQUEST_COLUMNS),
            )
            .with_for_update()
        )
        if request is None:
            raise not_found("education certificate request")
        if request.state != "requested":
            raise conflict(f"the application was {request.state} already", slug="request-decided")
        original = await uow.session.scalar(
            select(Certificate).where(Certificate.id == request.certificate_id).with_for_update()
        )
        assert original is not None  # a foreign key
        issued: Certificate | None = None
        if body.decision == "issue":
            if original.status != "valid":
                raise _not_replaceable(original)
            issued = await issue_education_certificate(ctx, uow, original, ctx.today())
            request.state, request.issued_certificate_id = "issued", issued.id
        else:
            request.state = "rejected"
        request.decided_by, request.opinion = principal.account_id, body.opinion
        request.decided_at = datetime.now(UTC)
        await record_audit(
            uow.session,
            principal,
            f"education_certificate_{request.state}",
            request.id,
            {"certificate": original.number, "issued": issued.number if issued else None},
        )
        await uow.commit()
        return _view(request, original, issued)
