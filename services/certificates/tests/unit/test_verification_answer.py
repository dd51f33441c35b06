"""The public verification answer as rules of plain values (domain/verification_answer.py)."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, replace
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.verification_answer import (
    UNKNOWN,
    CertificateOnRecord,
    answer_by_number,
    answer_by_payload,
    answer_for_holder,
    names_match,
    refused,
)

RECORD = CertificateOnRecord(
    number="2027410102414101000110482137",
    kind="graduation",
    name="王𬌗",
    status="valid",
    id_number="41010220090501123X",
    school_name="郑州市信息技术中等职业学校",
    outcome="graduated",
    graduating_year=2027,
    issued_on=date(2027, 6, 11),
)


def test_answer_by_number__valid_shows_masked_data_only() -> None:
    result = answer_by_number(RECORD, "王𬌗")
    assert result.state == "valid"
    assert result.certificate is not None
    assert result.certificate.id_number_masked == "4101**********123X"
    assert result.certificate.outcome_zh == "毕业"
    assert result.certificate.kind_zh == "毕业证书"
    assert "41010220090501123X" not in repr(asdict(result))


def test_answer_by_number__wrong_name_is_word_for_word_unknown() -> None:
    assert answer_by_number(RECORD, "王某") == UNKNOWN
    assert answer_by_number(RECORD, "王某") == answer_by_number(None, "王𬌗")


def test_answer_by_number__empty_name_never_matches() -> None:
    assert answer_by_number(replace(RECORD, name=" "), " ") == UNKNOWN


def test_names_match__nfc_and_trimming_only() -> None:
    decomposed = unicodedata.normalize("NFD", "Zoë")
    assert decomposed != "Zoë"
    assert names_match(f"  {decomposed}\t", "Zoë")
    assert not names_match("王 𬌗", "王𬌗")  # an inner space is a different name
    assert not names_match("zoë", "Zoë")


@given(st.text(min_size=1, max_size=8), st.text(max_size=8))
def test_names_match__only_the_same_text(recorded: str, typed: str) -> None:
    expected = (
        bool(unicodedata.normalize("NFC", typed).strip())
        and unicodedata.normalize("NFC", typed).strip() == unicodedata.normalize("NFC", recorded).strip()
    )
    assert names_match(typed, recorded) == expected


def test_answer_by_number__voided() -> None:
    result = answer_by_number(replace(RECORD, status="voided"), "王𬌗")
    assert result.state == "voided"
    assert "作废" in result.message_zh


def test_answer_by_number__lost_names_its_replacement() -> None:
    lost = replace(RECORD, status="lost", replaced_by="2027410102414101000120000155")
    result = answer_by_number(lost, "王𬌗")
    assert result.state == "lost"
    assert result.certificate is not None
    assert result.certificate.replaced_by == "2027410102414101000120000155"
    assert "学历证明书" in result.message_zh


def test_answer_by_number__an_unknown_status_is_not_valid() -> None:
    assert answer_by_number(replace(RECORD, status="withdrawn"), "王𬌗").state == "voided"


def test_answer_by_number__left_without_completing_reads_肄业() -> None:
    result = answer_by_number(replace(RECORD, outcome="left_without_completing"), "王𬌗")
    assert result.certificate is not None
    assert result.certificate.outcome_zh == "肄业"


def test_answer_by_payload__valid_as_printed() -> None:
    result = answer_by_payload(RECORD, sealed_number=RECORD.number, sealed_name=RECORD.name)
    assert result.state == "valid"
    assert result.changed_since_printed is False


def test_answer_by_payload__voided_since_printed() -> None:
    voided = replace(RECORD, status="voided")
    result = answer_by_payload(voided, sealed_number=RECORD.number, sealed_name=RECORD.name)
    assert result.state == "voided"
    assert result.changed_since_printed is True
    assert "此后已作废" in result.message_zh


def test_answer_by_payload__a_sealed_name_the_register_does_not_hold_is_unknown() -> None:
    assert answer_by_payload(RECORD, sealed_number=RECORD.number, sealed_name="李四") == UNKNOWN
    assert answer_by_payload(None, sealed_number=RECORD.number, sealed_name=RECORD.name) == UNKNOWN


def test_answer_for_holder__a_code_needs_no_name() -> None:
    assert answer_for_holder(RECORD).state == "valid"


def test_refused__carries_the_reason_and_no_certificate() -> None:
    result = refused("bad_signature")
    assert (result.state, result.reason, result.certificate) == ("refused", "bad_signature", None)
