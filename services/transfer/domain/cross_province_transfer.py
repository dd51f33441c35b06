"""跨省转学 (seed 002 §18, national phase 2): the destination school looks the student up and
applies; destination school → destination bureau → origin school → origin bureau review; the
record then moves by itself (自动调档) and both provinces keep the case."""

from __future__ import annotations

from services.transfer.domain.kind_rules import KindRules
from services.transfer.domain.review_levels import ReviewLevel, Side
from shared.events.transfer import TransferKind

_L = ReviewLevel

# Seed 002: 在校, 其他离校, 出国, 退学, 开除, 小学毕业. Here: in school (a student on leave still is),
# left without completing (肄业, the 其他离校 of vocational records), dropped out, abroad, withdrawn.
# Expulsion and primary school do not occur in secondary-vocational records.
CROSS_PROVINCE = KindRules(
    kind=TransferKind.CROSS_PROVINCE,
    label="跨省转学",
    applicant_side=Side.DESTINATION,
    crosses_provinces=True,
    default_chain=(_L.DEST_SCHOOL, _L.DEST_COUNTY, _L.ORIGIN_SCHOOL, _L.ORIGIN_COUNTY),
    allowed_statuses=frozenset(
        {"in_school", "on_leave", "left_without_completing", "dropout", "abroad", "withdrawn"}
    ),
    configurable_levels=frozenset({_L.DEST_SCHOOL, _L.DEST_COUNTY, _L.DEST_CITY, _L.DEST_PROVINCE}),
)
