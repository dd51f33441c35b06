"""毕业后跨省就学 (seed 002 §19): a graduate continues in another province. The admitting school
applies; admitting school → its bureau → the graduating school's bureau review; the record
moves by itself."""

from __future__ import annotations

from services.transfer.domain.kind_rules import KindRules
from services.transfer.domain.review_levels import ReviewLevel, Side
from shared.events.transfer import TransferKind

_L = ReviewLevel

AFTER_GRADUATION = KindRules(
    kind=TransferKind.AFTER_GRADUATION,
    label="毕业后跨省就学",
    applicant_side=Side.DESTINATION,
    crosses_provinces=True,
    default_chain=(_L.DEST_SCHOOL, _L.DEST_COUNTY, _L.ORIGIN_COUNTY),
    allowed_statuses=frozenset({"graduated"}),
    configurable_levels=frozenset({_L.DEST_SCHOOL, _L.DEST_COUNTY, _L.DEST_CITY, _L.DEST_PROVINCE}),
)
