"""PlainText: what PostgreSQL cannot store is refused when the body is read, not at the INSERT."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.text import PlainText


class Body(BaseModel):
    opinion: PlainText


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")) | st.sampled_from("\t\n\r")))
def test_plain_text__printable_text_tabs_and_line_breaks_pass(text: str) -> None:
    assert Body(opinion=text).opinion == text


@pytest.mark.parametrize("bad", ["\x00", "a\x00b", "\x1b[31m", "\x7f", "\ud800", "ok\x0c"])
def test_plain_text__nul_control_characters_and_lone_surrogates_are_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        Body(opinion=bad)
