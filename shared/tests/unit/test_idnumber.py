from __future__ import annotations

import pickle
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric as stdnum_ric

from shared.idnumber import (
    InvalidIdNumber,
    make_resident_id,
    mask_id_number,
    parse_resident_id,
    resident_id_check_digit,
)

TODAY = date(2025, 6, 1)

# The worked example of GB 11643-1999 and the doctest number of python-stdnum: independent oracles.
STANDARD_EXAMPLE = "11010519491231002X"
STDNUM_EXAMPLE = "360426199101010071"


def _with_check(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


def _error_code(raw: str, today: date = TODAY) -> str:
    with pytest.raises(InvalidIdNumber) as info:
        parse_resident_id(raw, today=today)
    return info.value.code


def test_parse__valid_number() -> None:
    rid = parse_resident_id(STDNUM_EXAMPLE, today=TODAY)
    assert rid.number == STDNUM_EXAMPLE
    assert rid.region_code == "360426"
    assert rid.birth_date == date(1991, 1, 1)
    assert rid.sex == "M"  # sequence 007, odd
    assert rid.legacy_15 is False


def test_parse__female_from_even_sequence() -> None:
    rid = parse_resident_id(_with_check("44030019850615002"), today=TODAY)
    assert rid.sex == "F"
    assert rid.birth_date == date(1985, 6, 15)


def test_parse__x_check_digit() -> None:
    rid = parse_resident_id(STANDARD_EXAMPLE, today=TODAY)
    assert rid.number == STANDARD_EXAMPLE
    assert rid.region_code == "110105"
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex == "F"


def test_parse__lower_case_x_and_full_width_normalised() -> None:
    assert parse_resident_id(" 11010519491231002x ", today=TODAY).number == STANDARD_EXAMPLE
    full_width = "１１０１０５１９４９１２３１００２Ｘ"
    assert parse_resident_id(full_width, today=TODAY).number == STANDARD_EXAMPLE


def test_check_digit__x_computed() -> None:
    assert resident_id_check_digit("11010519491231002") == "X"
    assert resident_id_check_digit("36042619910101007") == "1"


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_digit__agrees_with_stdnum(first17: str) -> None:
    # python-stdnum's independent implementation (it takes the number including a check character).
    assert resident_id_check_digit(first17) == stdnum_ric.calc_check_digit(first17 + "0")


@pytest.mark.parametrize("bad", ["1101051949123100", "1101051949123100X2", "", "a" * 17])
def test_check_digit__rejects_non_17_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        resident_id_check_digit(bad)


def test_check_digit__mismatch_rejected() -> None:
    assert _error_code("360426199101010072") == "check_digit"
    assert _error_code("110105194912310020") == "check_digit"  # X expected, 0 given


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "3604261991010100",  # 16
        "36042619910101007",  # 17
        "3604261991010100711",  # 19
        "36042619910X010071",  # X not last
        "36042619910101007Y",
        "11010549123100X",  # 15 characters but not all digits
        "360426-19910101-0071",
    ],
)
def test_format__rejected(raw: str) -> None:
    assert _error_code(raw) == "format"


def test_birth_date__impossible_feb_30() -> None:
    assert _error_code(_with_check("41140220230230123")) == "birth_date"


def test_birth_date__month_13() -> None:
    assert _error_code(_with_check("41140220231301123")) == "birth_date"


def test_birth_date__future_rejected() -> None:
    tomorrow = make_resident_id("411402", date(2025, 6, 2), 123)
    assert _error_code(tomorrow, today=TODAY) == "birth_date"


def test_birth_date__today_accepted() -> None:
    born_today = make_resident_id("411402", TODAY, 123)
    assert parse_resident_id(born_today, today=TODAY).birth_date == TODAY


def test_birth_date__before_1900_rejected() -> None:
    assert _error_code(make_resident_id("110105", date(1899, 12, 31), 1)) == "birth_date"
    assert parse_resident_id(make_resident_id("110105", date(1900, 1, 1), 1), today=TODAY)


def test_birth_date__default_today_rejects_far_future() -> None:
    with pytest.raises(InvalidIdNumber) as info:
        parse_resident_id(make_resident_id("110105", date(2999, 1, 1), 1))
    assert info.value.code == "birth_date"


@pytest.mark.parametrize("region", ["999999", "110199", "000000", "300000"])
def test_region__unknown_rejected(region: str) -> None:
    assert _error_code(make_resident_id(region, date(1990, 1, 1), 1)) == "region"


@pytest.mark.parametrize(
    ("region", "birth"),
    [
        ("110103", date(1985, 3, 1)),  # 崇文区, abolished 2010
        ("411402", date(1990, 1, 1)),  # 梁园区, created 1997: first card issued after the birth year
        ("440300", date(1980, 5, 5)),  # 深圳市, city-level code
    ],
)
def test_region__historical_and_later_codes_accepted(region: str, birth: date) -> None:
    rid = parse_resident_id(make_resident_id(region, birth, 11), today=TODAY)
    assert rid.region_code == region
    assert rid.birth_date == birth


def test_legacy_15__upgraded() -> None:
    rid = parse_resident_id("110105491231002", today=TODAY)
    assert rid.number == STANDARD_EXAMPLE
    assert rid.legacy_15 is True
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.sex == "F"
    assert rid.region_code == "110105"


def test_legacy_15__impossible_date_rejected() -> None:
    assert _error_code("110105490230002") == "birth_date"


def test_error__carries_code_and_both_messages() -> None:
    with pytest.raises(InvalidIdNumber) as info:
        parse_resident_id("360426199101010072", today=TODAY)
    err = info.value
    assert err.code == "check_digit"
    assert "校验位" in err.message_zh
    assert "check digit" in err.message_en
    assert "360426" not in str(err) + err.message_zh + err.message_en
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.message_zh, copy.message_en) == (err.code, err.message_zh, err.message_en)


def test_mask__domain_example() -> None:
    assert mask_id_number("411402199001011234") == "4114**********1234"


def test_mask__short_and_edge_lengths() -> None:
    assert mask_id_number("12345678") == "12345678"
    assert mask_id_number("123456789") == "1234*6789"
    assert mask_id_number("1234567") == "*******"
    assert mask_id_number("") == ""
    assert mask_id_number("110105491231002") == "1101*******1002"


def test_make_resident_id__standard_example() -> None:
    assert make_resident_id("110105", date(1949, 12, 31), 2) == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    ("region", "sequence"), [("11010", 1), ("1101051", 1), ("11010a", 1), ("110105", -1), ("110105", 1000)]
)
def test_make_resident_id__rejects_bad_arguments(region: str, sequence: int) -> None:
    with pytest.raises(ValueError):
        make_resident_id(region, date(1990, 1, 1), sequence)


KNOWN_REGIONS = ["110105", "110103", "360426", "411402", "440300", "650109", "540102", "810000"]


@given(
    region=st.sampled_from(KNOWN_REGIONS),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_make_resident_id__round_trips(region: str, birth: date, sequence: int) -> None:
    number = make_resident_id(region, birth, sequence)
    rid = parse_resident_id(number, today=TODAY)
    assert rid.number == number
    assert rid.region_code == region
    assert rid.birth_date == birth
    assert rid.sex == ("M" if sequence % 2 else "F")
    assert rid.legacy_15 is False


@given(
    region=st.sampled_from(KNOWN_REGIONS),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from("0123456789X"),
)
def test_check_digit__any_single_change_detected(
    region: str, birth: date, sequence: int, position: int, replacement: str
) -> None:
    number = make_resident_id(region, birth, sequence)
    if number[position] == replacement:
        replacement = "0" if replacement == "1" else "1"
    changed = number[:position] + replacement + number[position + 1 :]
    code = _error_code(changed)
    if replacement == "X" and position < 17:
        assert code == "format"
    else:
        # MOD 11-2 catches every single substitution, and the check digit is verified first.
        assert code == "check_digit"
