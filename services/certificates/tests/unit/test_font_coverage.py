"""Which characters the certificate fonts print (printing/coverage.py), and the refusals built on
it: a face with an unprintable character (printing/face.py) and the pre-graduate block
(domain/graduation_readiness.py). Reads the installed Noto CJK fonts (Debian fonts-noto-cjk),
the same files the renderer uses."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.graduation_readiness import (
    TOLERATED,
    Block,
    StudentFacts,
    graduation_readiness,
    outcome_refusals,
)
from services.certificates.printing.coverage import (
    describe_character,
    printable_code_points,
    unprintable_characters,
)
from services.certificates.printing.face import (
    GRADUATE_LIST_HEADER,
    PRINTED_AS_GIVEN,
    CertificateKind,
    certificate_fields,
    graduate_list_title,
)
from services.certificates.tests.faces import FACE
from shared.events.certificates import GraduationOutcome

# Not in Noto Serif CJK SC nor Noto Sans CJK SC (STACK.md "Fonts"; Typst refuses the page).
MISSING = "\U0002a6a5"  # 𪚥
# Rare name characters STACK.md printed: 𬌗 (Ext E, U+2C317) and 䶮 (Ext A, U+4DAE).
RARE_PRINTABLE = "\U0002c317\u4dae"
PRINTABLE = sorted(printable_code_points())


def test_unprintable_characters__rare_name_characters_print() -> None:
    assert unprintable_characters(f"王{RARE_PRINTABLE}") == []


def test_unprintable_characters__u2a6a5_does_not() -> None:
    assert unprintable_characters(f"张{MISSING}") == [MISSING]


def test_unprintable_characters__ascii_and_field_punctuation_print() -> None:
    ascii_printable = "".join(chr(c) for c in range(0x20, 0x7F))
    assert unprintable_characters(ascii_printable + "—（）·") == []


def test_unprintable_characters__a_variation_selector_needs_no_glyph() -> None:
    assert unprintable_characters("葛\U000e0100") == []


def test_unprintable_characters__invisible_characters_are_flagged() -> None:
    assert unprintable_characters("王\u200d明") == ["\u200d"]


@given(
    st.lists(st.sampled_from(PRINTABLE).map(chr), max_size=12),
    st.integers(min_value=0, max_value=12),
    st.integers(min_value=1, max_value=3),
)
def test_unprintable_characters__each_missing_character_once_among_printable_ones(
    printable: list[str], at: int, times: int
) -> None:
    text = printable[:at] + [MISSING] * times + printable[at:] + ["\x07"]
    assert unprintable_characters("".join(text)) == [MISSING, "\x07"]


def test_describe_character__code_point_and_character_or_name() -> None:
    assert describe_character(MISSING) == "U+2A6A5 \U0002a6a5"
    assert describe_character("\u200d") == "U+200D ZERO WIDTH JOINER"


@pytest.mark.parametrize("kind", get_args(CertificateKind))
@pytest.mark.parametrize("outcome", get_args(GraduationOutcome))
@pytest.mark.parametrize("sex", ["M", "F", None])
@pytest.mark.parametrize("study_length", [0.5, 2, 2.5, 3, 4.5, 6])
def test_fixed_wording__every_printed_string_is_printable(
    kind: CertificateKind, outcome: GraduationOutcome, sex: str | None, study_length: float
) -> None:
    """The wording face.py makes itself is not checked per face: it is checked here."""
    face = replace(FACE, kind=kind, outcome=outcome, sex=sex, study_length=study_length, birth_date=None)  # type: ignore[arg-type]
    assert {k: v for k, v in certificate_fields(face).items() if unprintable_characters(v)} == {}


def test_fixed_wording__graduate_list_header_and_title_are_printable() -> None:
    assert unprintable_characters("".join(GRADUATE_LIST_HEADER) + graduate_list_title("某校", 2027)) == []


@pytest.mark.parametrize("field", PRINTED_AS_GIVEN)
def test_certificate_face__unprintable_character_refused_naming_field_and_character(field: str) -> None:
    change: dict[str, Any] = {field: f"王{MISSING}"}
    with pytest.raises(ValueError) as refused:
        replace(FACE, **change)
    assert str(refused.value).startswith(f"{field} ")
    assert f"U+2A6A5 {MISSING}" in str(refused.value)


def test_certificate_face__rare_printable_name_accepted() -> None:
    assert replace(FACE, name=f"王{RARE_PRINTABLE}").name == f"王{RARE_PRINTABLE}"


READY = StudentFacts(
    status="in_school",
    grade=2024,
    study_length=3.0,
    filed_intake_year=2024,
    qualification_filed=True,
    open_problem_record=False,
)


def test_graduation_readiness__unprintable_name_blocks_every_outcome() -> None:
    readiness = graduation_readiness(replace(READY, name_printable=False), 2027)
    assert readiness.listed and not readiness.ready
    assert readiness.blocks == (Block.NAME_UNPRINTABLE,)
    assert "姓名" in Block.NAME_UNPRINTABLE.reason_zh and "font" in Block.NAME_UNPRINTABLE.reason
    for outcome in TOLERATED:
        assert outcome_refusals(readiness, outcome) == (Block.NAME_UNPRINTABLE,)


def test_graduation_readiness__printable_name_by_default() -> None:
    assert graduation_readiness(READY, 2027).ready
