"""Who arbitrates (seed 002: the common superior bureau; across provinces the ministry)."""

from __future__ import annotations

import pytest

from services.enrollment.domain.problem_arbiter import MINISTRY_ORG, Arbiter, SchoolPlace, common_superior

HERE = SchoolPlace("41", "4101", "410102")


@pytest.mark.parametrize(
    ("other", "arbiter"),
    [
        (SchoolPlace("41", "4101", "410102"), Arbiter("county", "410102")),
        (SchoolPlace("41", "4101", "410103"), Arbiter("city", "4101")),
        (SchoolPlace("41", "4102", "410202"), Arbiter("province", "41")),
        (SchoolPlace("37", "3701", "370102"), Arbiter("ministry", MINISTRY_ORG)),
    ],
)
def test_common_superior__lowest_bureau_above_both(other: SchoolPlace, arbiter: Arbiter) -> None:
    assert common_superior(HERE, other) == arbiter
    assert common_superior(other, HERE) == arbiter
