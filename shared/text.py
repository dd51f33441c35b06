"""Free text a person types into a form (opinions, reasons, statements) and ids sent as text.

PostgreSQL refuses NUL in text and a lone surrogate (which JSON may escape) has no UTF-8: either
would fail the statement — a 500, perhaps after part of the work — instead of the request, a 422
naming the field. ``PlainText`` refuses them, and the other control characters but tab and line
breaks, when the body is read.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain_text(value: str) -> str:
    if _NOT_TEXT.search(value):
        raise ValueError("control characters are not allowed")
    return value


PlainText = Annotated[str, AfterValidator(plain_text)]
