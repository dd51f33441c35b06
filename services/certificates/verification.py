"""Public verification (issue 8 §6, seed 004 art. 20): a certificate looked up by number and name,
by its QR payload, or by a graduate's verification code, answered as the rules in
domain/verification_answer.py say; and the graduate's codes themselves.

Reading is one indexed query by number (``certificate.number`` is unique): the name is compared
after the row is read, in Python (NFC), not in the WHERE clause, so a wrong name and an unknown
number cost the same and answer the same. The replacement of a lost certificate and the original
of a 学历证明书 cost a query only for such certificates; a valid one pays for neither.

Public verifications are not reads of personal data by a signed-in user (the verifier brings the
number and name; the answer shows nothing more than the paper does, masked), so they are counted
(``xueji_certificate_verifications_total``), not audit-logged one by one. A graduate making or
revoking a code is audit-logged.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from prometheus_client import Counter
from sqlalchemy import ColumnElement, Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.certificates.audit import record_audit
from services.certificates.domain.certificate_number import InvalidCertificateNumber, parse
from services.certificates.domain.qr_claims import QrPayloadRefused
from services.certificates.domain.verification_answer import (
    EXPIRED,
    MISTYPED,
    UNKNOWN,
    CertificateOnRecord,
    VerificationAnswer,
    answer_by_number,
    answer_by_payload,
    answer_for_holder,
    names_match,
    refused,
)
from services.certificates.domain.verification_code import (
    CODE_BYTES,
    code_expiry,
    code_from_random,
    grouped,
    is_code_live,
    may_share,
    normalise_code,
)
from services.certificates.models import Certificate, VerificationCode
from services.certificates.signing.qr_payload import open_sealed
from shared.auth import Principal
from shared.problems import conflict, not_found

VERIFICATIONS = Counter(
    "xueji_certificate_verifications_total",
    "Public certificate verifications, by channel (number, qr, code) and answer state",
    ["channel", "state"],
)

_original = aliased(Certificate)

# The original of a 学历证明书 is a primary-key subquery. The replacement of a lost certificate is
# a second query, made only for a lost one: as a subquery of this statement its plan (no index
# on ``replaces_id``) costs a sequential scan even when it never runs, and that estimate alone
# pushes the statement past PostgreSQL's JIT threshold, so every verification paid ~30 ms of
# compilation at a million rows (measured in bench/certificates/verify_bench.py).
_ON_RECORD = select(
    Certificate.number,
    Certificate.kind,
    Certificate.name,
    Certificate.status,
    Certificate.face["id_number"].astext,
    Certificate.face["school_name"].astext,
    Certificate.outcome,
    Certificate.graduating_year,
    Certificate.issued_on,
    Certificate.id,
    select(_original.number).where(_original.id == Certificate.replaces_id).scalar_subquery(),
)

_REPLACEMENT = (
    select(Certificate.number)
    .where(Certificate.replaces_id == bindparam("lost_id"))
    .order_by(Certificate.issued_on.desc())
    .limit(1)
)


async def _record(
    session: AsyncSession, row: Row[tuple[object, ...]] | None, holder_name: str | None
) -> CertificateOnRecord | None:
    if row is None:
        return None
    number, kind, name, status, id_number, school, outcome, year, issued_on, certificate_id, replaces = row
    assert isinstance(issued_on, date) and isinstance(year, int)
    replaced_by = None
    # Not for a wrong name: the answer is "unknown" anyway, and the extra query's time would tell
    # a lost certificate from a missing one.
    if status == "lost" and (holder_name is None or names_match(holder_name, str(name))):
        replaced_by = await session.scalar(_REPLACEMENT, {"lost_id": certificate_id})
    return CertificateOnRecord(
        number=str(number),
        kind=str(kind),
        name=str(name),
        status=str(status),
        id_number=str(id_number or ""),
        school_name=str(school or ""),
        outcome=str(outcome),
        graduating_year=year,
        issued_on=issued_on,
        replaced_by=str(replaced_by) if replaced_by else None,
        replaces=str(replaces) if replaces else None,
    )


async def certificate_by_number(
    session: AsyncSession, number: str, *, holder_name: str | None = None
) -> CertificateOnRecord | None:
    """The certificate of this number; with ``holder_name``, a lost one's replacement is looked
    up only when the name matches."""
    row = (await session.execute(_ON_RECORD.where(Certificate.number == number))).first()
    return await _record(session, row, holder_name)


async def certificate_by_id(session: AsyncSession, certificate_id: str) -> CertificateOnRecord | None:
    row = (await session.execute(_ON_RECORD.where(Certificate.id == certificate_id))).first()
    return await _record(session, row, None)


def _counted(channel: str, result: VerificationAnswer) -> VerificationAnswer:
    VERIFICATIONS.labels(channel, result.state).inc()
    return result


async def verify_number(session: AsyncSession, typed_number: str, typed_name: str) -> VerificationAnswer:
    """Number + name. A number failing its check digits is answered before any query."""
    try:
        number = parse(typed_number)
    except InvalidCertificateNumber as exc:
        return _counted("number", _with_reason(MISTYPED, exc.reason.value))
    record = await certificate_by_number(session, number.text, holder_name=typed_name)
    return _counted("number", answer_by_number(record, typed_name))


async def verify_payload(
    session: AsyncSession, scanned: str, trusted_keys: Mapping[str, PublicKeyTypes]
) -> VerificationAnswer:
    """A scanned QR (the URL or its base32): the seal first, then the certificate as it is now."""
    try:
        claims = open_sealed(scanned, trusted_keys)
    except QrPayloadRefused as exc:
        return _counted("qr", refused(exc.kind))
    record = await certificate_by_number(session, claims.number, holder_name=claims.name)
    return _counted("qr", answer_by_payload(record, sealed_number=claims.number, sealed_name=claims.name))


async def verify_code(session: AsyncSession, typed_code: str, *, now: datetime) -> VerificationAnswer:
    """A graduate's code: the certificate it shares, while the code is live."""
    code = normalise_code(typed_code)
    if code is None:
        return _counted("code", UNKNOWN)
    row = (
        await session.execute(
            select(
                VerificationCode.certificate_id, VerificationCode.expires_at, VerificationCode.revoked
            ).where(VerificationCode.code == code)
        )
    ).first()
    if row is None:
        return _counted("code", UNKNOWN)
    certificate_id, expires_at, revoked = row
    if not is_code_live(expires_at=expires_at, revoked=revoked, now=now):
        return _counted("code", EXPIRED)
    record = await certificate_by_id(session, certificate_id)
    return _counted("code", answer_for_holder(record) if record else UNKNOWN)


def _with_reason(result: VerificationAnswer, reason: str) -> VerificationAnswer:
    return replace(result, reason=reason)


# --- a graduate's codes --------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeShown:
    code: str
    code_grouped: str
    certificate_id: str
    certificate_number: str
    expires_at: datetime
    revoked: bool
    live: bool
    created_at: datetime


def _holder_filter(principal: Principal) -> ColumnElement[bool]:
    # A student's token names the student; a code is theirs when the certificate is.
    return Certificate.student_id == (principal.student_id or "")


async def create_code(
    session: AsyncSession, principal: Principal, certificate_id: str, valid_days: int, *, now: datetime
) -> CodeShown:
    """A new code for one of the caller's own certificates (404 for anyone else's: the endpoint
    does not tell whether another's certificate exists)."""
    certificate = (
        await session.execute(
            select(Certificate.id, Certificate.number, Certificate.status).where(
                Certificate.id == certificate_id, _holder_filter(principal)
            )
        )
    ).first()
    if certificate is None:
        raise not_found("certificate")
    if not may_share(certificate.status):
        raise conflict(
            f"a {certificate.status} certificate cannot be shared; share a valid one",
            slug="certificate-not-valid",
        )
    row = VerificationCode(
        code=code_from_random(secrets.token_bytes(CODE_BYTES)),
        certificate_id=certificate.id,
        created_by=principal.account_id,
        expires_at=code_expiry(now, valid_days),
        revoked=False,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        principal,
        "verification_code.created",
        certificate.id,
        # The code is a bearer secret: the log keeps enough to tell codes apart, not to use one.
        {"code_prefix": row.code[:4], "valid_days": valid_days, "expires_at": row.expires_at.isoformat()},
    )
    return _shown(row, certificate.number, now)


def _shown(row: VerificationCode, number: str, now: datetime) -> CodeShown:
    return CodeShown(
        code=row.code,
        code_grouped=grouped(row.code),
        certificate_id=row.certificate_id,
        certificate_number=number,
        expires_at=row.expires_at,
        revoked=row.revoked,
        live=is_code_live(expires_at=row.expires_at, revoked=row.revoked, now=now),
        created_at=row.created_at,
    )


async def codes_of(session: AsyncSession, principal: Principal, *, now: datetime) -> list[CodeShown]:
    rows = await session.execute(
        select(VerificationCode, Certificate.number)
        .join(Certificate, Certificate.id == VerificationCode.certificate_id)
        .where(_holder_filter(principal))
        .order_by(VerificationCode.created_at.desc())
    )
    return [_shown(code, number, now) for code, number in rows.tuples()]


async def revoke_code(session: AsyncSession, principal: Principal, typed_code: str) -> None:
    """Revoke one of the caller's codes (idempotent); 404 if it is not theirs."""
    code = normalise_code(typed_code)
    owned = (
        select(Certificate.id)
        .where(Certificate.id == VerificationCode.certificate_id, _holder_filter(principal))
        .exists()
    )
    certificate_id = (
        await session.execute(
            update(VerificationCode)
            .where(VerificationCode.code == (code or ""), owned)
            .values(revoked=True)
            .returning(VerificationCode.certificate_id)
        )
    ).scalar_one_or_none()
    if certificate_id is None:
        raise not_found("verification code")
    await record_audit(
        session, principal, "verification_code.revoked", certificate_id, {"code_prefix": (code or "")[:4]}
    )
