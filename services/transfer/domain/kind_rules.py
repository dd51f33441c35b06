"""What sets one kind of transfer apart: who applies, its default chain, whom it admits."""

from __future__ import annotations

from dataclasses import dataclass

from services.transfer.domain.review_levels import ReviewLevel, Side
from shared.events.transfer import TransferKind


@dataclass(frozen=True)
class KindRules:
    kind: TransferKind
    label: str
    applicant_side: Side
    crosses_provinces: bool
    default_chain: tuple[ReviewLevel, ...]
    # The student statuses (shared.events.common.StudentStatus) the kind admits.
    allowed_statuses: frozenset[str]
    # The levels a province may put in this kind's chain (its own side's, for a cross-province
    # kind: the other province's part of the chain is the national flow's, see ADR 0011).
    configurable_levels: frozenset[ReviewLevel]

    @property
    def applicant_level(self) -> ReviewLevel:
        return ReviewLevel.ORIGIN_SCHOOL if self.applicant_side is Side.ORIGIN else ReviewLevel.DEST_SCHOOL
