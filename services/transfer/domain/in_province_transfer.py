"""省内转学 (seed 004 art. 12) and joint programmes (art. 15): the origin school applies with the
student's handwritten request; origin school → destination school → origin bureau →
destination bureau review, 10 working days each; a transfer between cities, or a batch of 30 or
more students, goes up level by level to the province (逐级审批上报省教育厅)."""

from __future__ import annotations

from collections.abc import Sequence

from services.transfer.domain.kind_rules import KindRules
from services.transfer.domain.review_levels import ReviewLevel, Side
from shared.events.transfer import TransferKind

_L = ReviewLevel
BATCH_NEEDING_PROVINCE = 30
_STUDYING = frozenset({"in_school", "on_leave"})
_THIS_PROVINCE_LEVELS = frozenset(ReviewLevel)

IN_PROVINCE = KindRules(
    kind=TransferKind.IN_PROVINCE,
    label="省内转学",
    applicant_side=Side.ORIGIN,
    crosses_provinces=False,
    default_chain=(_L.ORIGIN_SCHOOL, _L.DEST_SCHOOL, _L.ORIGIN_COUNTY, _L.DEST_COUNTY),
    allowed_statuses=_STUDYING,
    configurable_levels=_THIS_PROVINCE_LEVELS,
)

JOINT_PROGRAMME = KindRules(
    kind=TransferKind.JOINT_PROGRAMME,
    label="联合办学转入联办学校",
    applicant_side=Side.ORIGIN,
    crosses_provinces=False,
    default_chain=IN_PROVINCE.default_chain,
    allowed_statuses=_STUDYING,
    configurable_levels=_THIS_PROVINCE_LEVELS,
)


def needs_province(*, crosses_cities: bool, batch_size: int) -> bool:
    return crosses_cities or batch_size >= BATCH_NEEDING_PROVINCE


def with_escalation(
    chain: Sequence[ReviewLevel], *, crosses_cities: bool, batch_size: int
) -> tuple[ReviewLevel, ...]:
    """The configured chain, plus the city bureaus and the province when the rule needs them
    (a province cannot configure its way around art. 12). One province: its department reviews
    once, as ``origin_province``."""
    levels = list(chain)
    if not needs_province(crosses_cities=crosses_cities, batch_size=batch_size):
        return tuple(levels)
    escalation = [_L.ORIGIN_CITY, _L.DEST_CITY] if crosses_cities else [_L.ORIGIN_CITY]
    for level in [*escalation, _L.ORIGIN_PROVINCE]:
        if level not in levels and not (level is _L.ORIGIN_PROVINCE and _L.DEST_PROVINCE in levels):
            levels.append(level)
    return tuple(levels)
