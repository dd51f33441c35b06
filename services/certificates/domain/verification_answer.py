"""What public verification answers (issue 8 §6; seed 004 art. 20: 社会部门及个人可依据毕业生提供的
相关信息…对毕业信息进行查询、验证; art. 19: a lost certificate is replaced by a 学历证明书).

Pure: the certificate as the database holds it (or nothing) and what the verifier typed or
scanned are the arguments.

Rules:
- A number that fails its check characters is ``mistyped``: said before any lookup, so a typo
  is told apart from a certificate that does not exist.
- The name must match the certificate's exactly, after Unicode NFC and trimming: a verifier who
  holds the paper can type it. A wrong name answers ``unknown``, word for word the answer for a
  number that does not exist, so the endpoint never tells that a number exists under another name.
- A known certificate is ``valid``, ``voided`` (a graduation rolled back, a certificate withdrawn)
  or ``lost`` (replaced by a 学历证明书: the answer names the replacement's number).
- A QR payload says what was true when it was printed; the database says what is true now. A
  payload sealed as valid of a certificate voided since answers ``voided``.
- Only masked data leaves: the ID number as 4101**********1234. The name is shown: the verifier
  typed it (or holds the paper that prints it).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from shared.events.common import STUDENT_STATUS_LABELS
from shared.idnumber import mask_id_number

VerificationState = Literal["valid", "voided", "lost", "unknown", "mistyped", "expired", "refused"]

_STATE_WORDS: dict[VerificationState, tuple[str, str]] = {
    "valid": ("该证书真实有效。", "The certificate is genuine and valid."),
    "voided": ("该证书已作废。", "The certificate has been voided."),
    "lost": (
        "该证书已登记遗失，已由学历证明书替代。",
        "The certificate was reported lost and has been replaced by a certificate of education.",
    ),
    "unknown": (
        "未查到与该编号和姓名相符的证书。",
        "No certificate matches this number and name.",
    ),
    "mistyped": (
        "证书编号有误，请核对后重新输入。",
        "The certificate number is not a valid number; check it and type it again.",
    ),
    "expired": ("该验证码已过期或已被撤销。", "This verification code has expired or was revoked."),
    "refused": (
        "二维码内容无法验证，可能已被篡改。",
        "The QR code's content cannot be verified; it may have been altered.",
    ),
}

_KIND_WORDS = {"graduation": "毕业证书", "education_certificate": "学历证明书"}


@dataclass(frozen=True)
class CertificateOnRecord:
    """The columns of a certificate verification reads, full ID number included (masked here)."""

    number: str
    kind: str  # graduation | education_certificate
    name: str
    status: str  # valid | voided | lost
    id_number: str
    school_name: str
    outcome: str
    graduating_year: int
    issued_on: date
    replaced_by: str | None = None  # a lost certificate: the 学历证明书's number
    replaces: str | None = None  # a 学历证明书: the lost certificate's number


@dataclass(frozen=True)
class CertificateShown:
    """What an answer shows of a certificate: masked."""

    number: str
    kind: str
    kind_zh: str
    name: str
    id_number_masked: str
    school_name: str
    outcome: str
    outcome_zh: str
    graduating_year: int
    issued_on: date
    replaced_by: str | None
    replaces: str | None


@dataclass(frozen=True)
class VerificationAnswer:
    state: VerificationState
    message_zh: str
    message: str
    certificate: CertificateShown | None = None
    reason: str | None = None  # why a QR payload was refused (no personal data)
    changed_since_printed: bool | None = None  # a QR payload: no longer valid as printed


def normalise_name(name: str) -> str:
    """NFC and trimmed: a name typed on a phone and the stored one compare as the same text
    (precomposed vs combining forms, a trailing space); nothing else is forgiven."""
    return unicodedata.normalize("NFC", name).strip()


def names_match(typed: str, recorded: str) -> bool:
    typed_name = normalise_name(typed)
    return bool(typed_name) and typed_name == normalise_name(recorded)


def answer(state: VerificationState, certificate: CertificateShown | None = None) -> VerificationAnswer:
    zh, en = _STATE_WORDS[state]
    return VerificationAnswer(state, zh, en, certificate)


UNKNOWN = answer("unknown")
MISTYPED = answer("mistyped")
EXPIRED = answer("expired")


def refused(reason: str) -> VerificationAnswer:
    zh, en = _STATE_WORDS["refused"]
    return VerificationAnswer("refused", zh, en, None, reason)


def shown(record: CertificateOnRecord) -> CertificateShown:
    return CertificateShown(
        number=record.number,
        kind=record.kind,
        kind_zh=_KIND_WORDS.get(record.kind, record.kind),
        name=record.name,
        id_number_masked=mask_id_number(record.id_number),
        school_name=record.school_name,
        outcome=record.outcome,
        # The outcome is enrollment's status name (graduated, completed, left_without_completing).
        outcome_zh=STUDENT_STATUS_LABELS.get(record.outcome, record.outcome),
        graduating_year=record.graduating_year,
        issued_on=record.issued_on,
        replaced_by=record.replaced_by,
        replaces=record.replaces,
    )


def state_of(record: CertificateOnRecord) -> VerificationState:
    """The database's status as an answer; a status this module does not know is not 'valid'."""
    if record.status == "valid":
        return "valid"
    if record.status == "lost":
        return "lost"
    return "voided"


def answer_by_number(record: CertificateOnRecord | None, typed_name: str) -> VerificationAnswer:
    """The answer to number + name, once the number has parsed and been looked up."""
    if record is None or not names_match(typed_name, record.name):
        return UNKNOWN
    return answer(state_of(record), shown(record))


def answer_for_holder(record: CertificateOnRecord) -> VerificationAnswer:
    """The answer to a live verification code: the graduate chose to share this certificate."""
    return answer(state_of(record), shown(record))


# A QR payload is sealed when the certificate is issued, so it always says "valid as printed".
_SINCE_PRINTED = {
    "voided": ("（证书打印时有效，此后已作废。）", " (It was valid when printed and has been voided since.)"),
    "lost": ("（证书打印后已登记遗失。）", " (It was reported lost after it was printed.)"),
}


def answer_by_payload(
    record: CertificateOnRecord | None, *, sealed_number: str, sealed_name: str
) -> VerificationAnswer:
    """The answer to a QR payload whose seal verified: the certificate it names, as it is now,
    saying so when that is no longer what was printed (sealed at issue: valid).

    A seal that verifies but names a certificate the database does not hold (or holds under
    another name) answers ``unknown``: the key signed it, but this province has no such
    certificate to vouch for.
    """
    if record is None or record.number != sealed_number or not names_match(sealed_name, record.name):
        return UNKNOWN
    now = answer(state_of(record), shown(record))
    if now.state in _SINCE_PRINTED:
        zh, en = _SINCE_PRINTED[now.state]
        return replace(
            now, message_zh=now.message_zh + zh, message=now.message + en, changed_since_printed=True
        )
    return replace(now, changed_since_printed=False)
