"""Certificate numbers: composition, check digits against typos, and the serial permutation."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.certificate_number import (
    NUMBER_DIGITS,
    SERIAL_RANGE,
    CertificateNumber,
    InvalidCertificateNumber,
    Refusal,
    Series,
    check_digits,
    compose,
    format_grouped,
    parse,
    permute_serial,
)

KEYS = (bytes(32), b"\xff" * 32, bytes(range(48)))


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


certificate_numbers = st.builds(
    CertificateNumber,
    year=st.integers(1950, 2100),
    region=_digits(6),
    school=_digits(10),
    series=st.sampled_from(Series),
    serial=st.integers(0, SERIAL_RANGE - 1),
)


def _refusal(text: str) -> Refusal:
    with pytest.raises(InvalidCertificateNumber) as caught:
        parse(text)
    return caught.value.reason


def test_check_digits__iso_7064_example() -> None:
    # The worked example of python-stdnum's documentation of ISO 7064 MOD 97-10.
    assert check_digits("99991234567890121414") == "90"


@given(body=_digits(NUMBER_DIGITS - 2))
def test_check_digits__make_the_whole_number_one_modulo_97(body: str) -> None:
    assert int(body + check_digits(body)) % 97 == 1


def test_check_digits__refuses_letters() -> None:
    # stdnum reads letters as base 36; a certificate number has none.
    with pytest.raises(ValueError):
        check_digits("2026A")


@given(number=certificate_numbers)
def test_compose__parse_round_trip(number: CertificateNumber) -> None:
    text = compose(number.year, number.region, number.school, number.series, number.serial)
    assert len(text) == NUMBER_DIGITS
    assert text[:4] == f"{number.year:04d}"
    assert text[20] == str(number.series.value)
    assert parse(text) == number


def test_compose__layout() -> None:
    text = compose(2026, "410102", "4141010001", Series.education_certificate, 482)
    assert text[:26] == "2026" + "410102" + "4141010001" + "2" + "00482"
    assert text[26:] == check_digits(text[:26])


@pytest.mark.parametrize(
    ("year", "region", "school", "serial"),
    [
        (10000, "410102", "4141010001", 0),
        (2026, "41010", "4141010001", 0),
        (2026, "410102", "414101000", 0),
        (2026, "41010X", "4141010001", 0),
        (2026, "410102", "4141010001", SERIAL_RANGE),
        (2026, "410102", "4141010001", -1),
    ],
)
def test_compose__refuses_parts_of_the_wrong_size(year: int, region: str, school: str, serial: int) -> None:
    with pytest.raises(ValueError):
        compose(year, region, school, Series.graduation, serial)


@given(number=certificate_numbers)
def test_parse__every_single_digit_typo_is_refused(number: CertificateNumber) -> None:
    text = number.text
    for at, digit in enumerate(text):
        for typo in "0123456789".replace(digit, ""):
            assert _refusal(text[:at] + typo + text[at + 1 :]) is Refusal.mistyped


@given(number=certificate_numbers)
def test_parse__every_adjacent_transposition_is_refused(number: CertificateNumber) -> None:
    text = number.text
    for at in range(NUMBER_DIGITS - 1):
        if text[at] != text[at + 1]:
            swapped = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
            assert _refusal(swapped) is Refusal.mistyped


@given(number=certificate_numbers)
def test_format_grouped__parses_back(number: CertificateNumber) -> None:
    grouped = format_grouped(number.text)
    assert [len(group) for group in grouped.split(" ")] == [4, 6, 10, 1, 5, 2]
    assert parse(grouped) == number
    assert parse(grouped.replace(" ", "-")) == number
    assert format_grouped(number) == grouped


def test_parse__as_typed_with_a_chinese_input_method() -> None:
    text = compose(2026, "410102", "4141010001", Series.graduation, 4821)
    # Full-width digits, groups parted by the ideographic space U+3000.
    groups = ["".join(chr(ord(c) + 0xFEE0) for c in group) for group in format_grouped(text).split()]
    full_width = "\u3000".join(groups)
    assert parse(full_width).text == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", Refusal.wrong_length),
        ("2026 410102 4141010001 1 04821", Refusal.wrong_length),
        ("2026 410102 4141010001 1 04821 500", Refusal.wrong_length),
        ("2026 41O102 4141010001 1 04821 50", Refusal.not_digits),
        ("2026/410102/4141010001/1/04821/50", Refusal.not_digits),
    ],
)
def test_parse__refusal_reasons(text: str, reason: Refusal) -> None:
    assert _refusal(text) is reason


def test_parse__unknown_series_with_valid_check_digits() -> None:
    body = "2026" + "410102" + "4141010001" + "7" + "04821"
    assert _refusal(body + check_digits(body)) is Refusal.unknown_series


def test_parse__refusal_does_not_repeat_the_text() -> None:
    typed = "2026 410102 4141010001 1 04821 51"
    with pytest.raises(InvalidCertificateNumber) as caught:
        parse(typed)
    assert "04821" not in str(caught.value)


def _permutation(key: bytes, domain: str) -> list[int]:
    return [permute_serial(counter, key, domain) for counter in range(SERIAL_RANGE)]


@pytest.mark.parametrize("key", KEYS)
def test_permute_serial__is_a_bijection_of_the_whole_range(key: bytes) -> None:
    assert sorted(_permutation(key, "graduation/2026/4141010001")) == list(range(SERIAL_RANGE))


def test_permute_serial__differs_between_keys_and_domains() -> None:
    base = _permutation(KEYS[0], "graduation/2026/4141010001")
    others = [
        _permutation(KEYS[1], "graduation/2026/4141010001"),
        _permutation(KEYS[0], "graduation/2027/4141010001"),
        _permutation(KEYS[0], "education_certificate/2026/4141010001"),
    ]
    for other in others:
        # Two independent random permutations agree on about one point.
        assert sum(a == b for a, b in zip(base, other, strict=True)) < 20


def test_permute_serial__consecutive_counters_look_random() -> None:
    serials = [permute_serial(counter, KEYS[2], "graduation/2026/4141010001") for counter in range(1000)]
    # The first thousand serials spread over the whole range, not a run from zero.
    assert {serial // 10_000 for serial in serials} == set(range(10))
    assert sum(b == a + 1 for a, b in itertools.pairwise(serials)) < 5


def test_permute_serial__is_stable_for_one_key_and_domain() -> None:
    first = [permute_serial(c, KEYS[1], "graduation/2026/4141010001") for c in (0, 1, 99_999)]
    assert first == [permute_serial(c, KEYS[1], "graduation/2026/4141010001") for c in (0, 1, 99_999)]


@pytest.mark.parametrize("counter", [-1, SERIAL_RANGE])
def test_permute_serial__refuses_counters_out_of_range(counter: int) -> None:
    with pytest.raises(ValueError):
        permute_serial(counter, KEYS[0], "graduation/2026/4141010001")


def test_permute_serial__refuses_a_short_key() -> None:
    with pytest.raises(ValueError):
        permute_serial(0, b"short", "graduation/2026/4141010001")
