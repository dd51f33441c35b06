"""Who acts first on a duplicate ID (DOMAIN.md "Problem records"): the later-registered side
chooses change, evidence or delete; the earlier one waits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

Side = Literal["here", "counterpart"]


def later_registered_acts_first(
    registered_here_at: datetime, registered_there_at: datetime, *, here: str, there: str
) -> Side:
    """The side whose record is younger acts. Two registrations in the same instant are ordered
    by province code (``here``/``there``), so both provinces reach the same answer."""
    if registered_here_at != registered_there_at:
        return "here" if registered_here_at > registered_there_at else "counterpart"
    return "here" if here > there else "counterpart"
