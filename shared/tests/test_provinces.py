"""The province table: every code a region or ID number can start with, named in both languages."""

from __future__ import annotations

import re

from shared.provinces import PROVINCES, province_label, province_name


def test_every_listed_code_is_two_digits_and_named_in_both_languages() -> None:
    assert len(PROVINCES) == 32  # 31 provincial-level divisions and the 兵团 (66)
    for code, name in PROVINCES.items():
        assert re.fullmatch(r"[1-6][0-9]", code)
        assert name.zh and not name.zh.endswith(("省", "市", "自治区"))  # as the seed's screens name them
        assert name.en.isascii() and name.en[0].isupper()


def test_a_known_code_reads_as_its_name_with_the_code_an_unknown_one_as_the_code() -> None:
    assert province_name("37") == "山东" and province_name("41", "en") == "Henan"
    assert province_label("37") == "山东（37）"
    assert province_label("37", "en") == "Shandong (37)"
    assert province_name("99") == "99" and province_label("99", "en") == "99"
