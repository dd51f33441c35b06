"""The face of an issued certificate (domain/certificate_face.py): seed 004 art. 17 and 19."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.certificate_face import (
    NO_ID_NUMBER,
    UnknownProvince,
    education_certificate_face,
    face_from_json,
    face_to_json,
    graduation_face,
    issuer_of,
    qr_claims,
    study_end,
)
from services.certificates.domain.qr_claims import claims_from_cbor, claims_to_cbor
from services.certificates.printing.face import certificate_fields
from shared.certificate_facts import CertificateFacts


def facts(**overrides: Any) -> CertificateFacts:
    values: dict[str, Any] = {
        "student_id": "s-1",
        "name": "王𬌗",
        "sex": "M",
        "birth_date": date(2009, 5, 1),
        "id_type": "resident_id",
        "id_number": "41010220090501123X",
        "study_start": date(2024, 9, 1),
        "study_length": 3,
        "study_form": "full_time",
        "major_code": "710201",
        "major_name": "计算机应用",
        "skill_direction": "网络技术",
        "school_name": "郑州市信息技术中等职业学校",
    }
    values.update(overrides)
    return CertificateFacts.model_validate(values)


def issue(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "outcome": "graduated",
        "number": "2027-410102-4141010001-0000123-45",
        "issued_on": date(2027, 6, 11),
        "graduating_year": 2027,
        "province": "41",
    }
    args.update(overrides)
    return graduation_face(facts(), **args)


def test_graduation_face__prints_every_fact_of_art_17() -> None:
    face = issue()
    printed = certificate_fields(face)
    assert printed["name"] == "王𬌗"
    assert printed["id_number"] == "41010220090501123X"  # the certificate prints it in full
    assert printed["study_period"] == "2024年9月至2027年6月"
    assert printed["major"] == "计算机应用（网络技术）"
    assert printed["study_length"] == "三年"
    assert printed["outcome"] == "毕业"
    assert printed["issuer"] == "河南省教育厅"
    assert printed["issued_on"] == "2027年6月11日"
    assert printed["title"] == "毕业证书"


def test_graduation_face__left_without_completing_prints_as_ken_ye() -> None:
    face = issue(outcome="left_without_completing")
    assert face.outcome == "left_without_completing"  # the list's name, kept as it is
    assert certificate_fields(face)["title"] == "肄业证书"


def test_graduation_face__unknown_outcome_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        issue(outcome="expelled")


def test_graduation_face__no_id_number_prints_a_dash() -> None:
    face = graduation_face(
        facts(id_type="none", id_number=None),
        outcome="completed",
        number="n",
        issued_on=date(2027, 6, 11),
        graduating_year=2027,
        province="41",
    )
    assert face.id_number == NO_ID_NUMBER


@pytest.mark.parametrize(
    ("province", "issuer"), [("41", "河南省教育厅"), ("37", "山东省教育厅"), ("44", "广东省教育厅")]
)
def test_issuer_of__demo_provinces(province: str, issuer: str) -> None:
    assert issuer_of(province) == issuer


def test_issuer_of__unknown_province_refused() -> None:
    with pytest.raises(UnknownProvince):
        issuer_of("99")


def test_study_end__late_issue_still_ends_in_june_of_the_graduating_year() -> None:
    assert study_end(2027, date(2028, 3, 2)) == date(2027, 6, 30)
    face = issue(issued_on=date(2028, 3, 2))
    assert certificate_fields(face)["study_period"] == "2024年9月至2027年6月"


@given(st.integers(2000, 2100), st.dates(date(2000, 1, 1), date(2101, 12, 31)))
def test_study_end__never_after_june_of_the_year_nor_after_graduation(year: int, graduated_on: date) -> None:
    end = study_end(year, graduated_on)
    assert end <= date(year, 6, 30)
    assert end <= graduated_on
    assert end in (graduated_on, date(year, 6, 30))


def test_education_certificate_face__same_fields_own_number_and_date() -> None:
    original = issue()
    replacement = education_certificate_face(original, number="E-1", issued_on=date(2030, 2, 3))
    assert replacement.kind == "education_certificate"
    assert (replacement.number, replacement.issued_on) == ("E-1", date(2030, 2, 3))
    printed, before = certificate_fields(replacement), certificate_fields(original)
    assert printed["title"] == "学历证明书"
    assert "原证书遗失" in printed["statement"]
    for same in ("name", "id_number", "study_period", "major", "outcome", "school_name", "issuer"):
        assert printed[same] == before[same]


@given(
    st.sampled_from(["graduated", "completed", "left_without_completing"]),
    st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2012, 12, 31))),
    st.sampled_from([None, "网络技术"]),
    st.sampled_from([0.5, 1, 2, 2.5, 3, 4]),
)
def test_face_to_json__round_trips(
    outcome: str, birth: date | None, direction: str | None, length: float
) -> None:
    face = graduation_face(
        facts(birth_date=birth, skill_direction=direction, study_length=length),
        outcome=outcome,
        number="n-1",
        issued_on=date(2027, 6, 11),
        graduating_year=2027,
        province="41",
    )
    stored = face_to_json(face)
    assert all(not isinstance(v, date) for v in stored.values())  # JSONB takes it as is
    assert face_from_json(stored) == face


def test_face_from_json__unknown_outcome_refused() -> None:
    stored = face_to_json(issue(outcome="left_without_completing"))
    with pytest.raises(ValueError, match="outcome"):
        face_from_json({**stored, "outcome": "left"})


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [("graduated", "graduation"), ("left_without_completing", "graduation"), ("completed", "education")],
)
def test_qr_claims__seal_what_the_face_prints(outcome: str, kind: str) -> None:
    face = issue(outcome=outcome)
    if kind == "education":
        face = education_certificate_face(face, number="E-2", issued_on=date(2029, 1, 5))
    claims = qr_claims(face, "41")
    assert claims.outcome == outcome
    assert claims.kind == face.kind
    assert (claims.number, claims.name, claims.school_name) == (face.number, face.name, face.school_name)
    assert (claims.issued_on, claims.province) == (face.issued_on, "41")
    assert claims_from_cbor(claims_to_cbor(claims)) == claims
