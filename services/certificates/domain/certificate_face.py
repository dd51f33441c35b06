"""What an issued certificate says, built from enrollment's facts and the graduation list (seed 004
art. 17: 姓名 性别 出生日期 身份证号 学习起止年月 专业（专业技能方向） 学制 学习形式 毕（结）业 学校名称
日期 编号; art. 19: a 学历证明书 says the same as the certificate it replaces).

Pure: the facts, the outcome, the number and the dates are arguments. The face is stored with the
certificate as JSON (``face_to_json``), so a reprint in twenty years prints what was issued, not
what the record says by then.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date
from typing import Any, cast, get_args

from services.certificates.domain.qr_claims import QrClaims
from services.certificates.printing.face import CertificateFace, CertificateKind
from shared.certificate_facts import CertificateFacts
from shared.events.certificates import GraduationOutcome

# The authority named on the certificate is the province's education department (art. 17: 省教育厅
# 办理毕业证书). A table rather than a setting: the name is the province's legal name, fixed with
# its GB/T 2260 code, and a typo in a deployment file must not print on 300,000 certificates.
# The three demo provinces; a fourth province adds its line here.
ISSUERS: dict[str, str] = {
    "41": "河南省教育厅",
    "37": "山东省教育厅",
    "44": "广东省教育厅",
}

_OUTCOMES: frozenset[str] = frozenset(get_args(GraduationOutcome))

# A record without a usable ID number (id type "none") still gets its certificate; the field
# prints a dash rather than nothing, so the blank on security paper is not filled in by hand.
NO_ID_NUMBER = "—"


class UnknownProvince(ValueError):
    """No issuer name is known for the province: the certificate cannot say who issued it."""


def issuer_of(province: str) -> str:
    try:
        return ISSUERS[province]
    except KeyError:
        raise UnknownProvince(f"no issuing authority is known for province {province!r}") from None


def graduation_outcome(outcome: str) -> GraduationOutcome:
    """The outcome as the graduation list or a stored face holds it (text in the database),
    refused when it is not one of the three: a certificate never prints a word it has no rule for."""
    if outcome not in _OUTCOMES:
        raise ValueError(f"unknown graduation outcome {outcome!r}")
    return cast(GraduationOutcome, outcome)


def study_end(graduating_year: int, graduated_on: date) -> date:
    """学习起止年月 ends in June of the graduating year (the school year's end); a graduation
    dated before the end of that June (an early list) ends study on its own date. Only the year
    and month are printed, so the day chosen within June does not show."""
    return min(graduated_on, date(graduating_year, 6, 30))


def graduation_face(
    facts: CertificateFacts,
    *,
    outcome: str,
    number: str,
    issued_on: date,
    graduating_year: int,
    province: str,
) -> CertificateFace:
    """The face of a 毕（结/肄）业证书 issued on ``issued_on``, the graduation date."""
    return CertificateFace(
        kind="graduation",
        number=number,
        name=facts.name,
        sex=facts.sex,
        birth_date=facts.birth_date,
        id_number=facts.id_number or NO_ID_NUMBER,
        study_start=facts.study_start,
        study_end=study_end(graduating_year, issued_on),
        major_name=facts.major_name,
        skill_direction=facts.skill_direction,
        study_length=facts.study_length,
        study_form=facts.study_form,
        outcome=graduation_outcome(outcome),
        school_name=facts.school_name,
        issued_on=issued_on,
        issuer=issuer_of(province),
    )


def education_certificate_face(original: CertificateFace, *, number: str, issued_on: date) -> CertificateFace:
    """A 学历证明书 (art. 19) carries the lost certificate's fields (same effect), under its own
    number and its own date; the wording that it replaces a lost certificate comes with the kind."""
    return replace(original, kind="education_certificate", number=number, issued_on=issued_on)


def face_to_json(face: CertificateFace) -> dict[str, Any]:
    """The face as stored in ``certificate.face`` (dates as ISO strings)."""
    values = asdict(face)
    for key in ("birth_date", "study_start", "study_end", "issued_on"):
        if values[key] is not None:
            values[key] = values[key].isoformat()
    return values


def face_from_json(values: dict[str, Any]) -> CertificateFace:
    """The stored face back; fields added to ``CertificateFace`` later must have defaults."""
    birth = values.get("birth_date")
    kind: CertificateKind = values["kind"]
    return CertificateFace(
        kind=kind,
        number=values["number"],
        name=values["name"],
        sex=values.get("sex"),
        birth_date=date.fromisoformat(birth) if birth else None,
        id_number=values["id_number"],
        study_start=date.fromisoformat(values["study_start"]),
        study_end=date.fromisoformat(values["study_end"]),
        major_name=values["major_name"],
        skill_direction=values.get("skill_direction"),
        study_length=float(values["study_length"]),
        study_form=values["study_form"],
        outcome=graduation_outcome(values["outcome"]),
        school_name=values["school_name"],
        issued_on=date.fromisoformat(values["issued_on"]),
        issuer=values["issuer"],
    )


def qr_claims(face: CertificateFace, province: str) -> QrClaims:
    """What the certificate's QR seals: who, which school, when, which outcome, which paper.
    The status is not sealed: a QR says what was issued, the register says what holds now."""
    return QrClaims(
        number=face.number,
        name=face.name,
        school_name=face.school_name,
        issued_on=face.issued_on,
        outcome=face.outcome,
        kind=face.kind,
        province=province,
    )
