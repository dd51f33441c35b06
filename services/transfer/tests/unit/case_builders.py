"""Plain values for the transfer domain's tests: people, step inputs and opened case copies."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count

from services.transfer.domain.case_copy import CaseCopy, StepInput, apply_line, open_case, record_check
from services.transfer.domain.kinds import KINDS, chain_for
from services.transfer.domain.review_levels import ReviewLevel, Side
from shared.events.transfer import CaseParty, TimelineLine, TransferKind

ORIGIN = "37"
DESTINATION = "41"
CROSS_CHAIN = chain_for(KINDS[TransferKind.CROSS_PROVINCE])

_clock = count(1)


def tick() -> str:
    """A later moment each call; the rules only carry it onto lines, they never compare it."""
    return f"2026-11-27T10:00:00.{next(_clock):06d}+00:00"


def person(province: str, role: str = "school_registrar", org: str | None = None) -> CaseParty:
    return CaseParty(
        username=f"{role}-{province}", role=role, org=org or f"{province}01000001", province=province
    )


def step(
    step_id: str,
    province: str,
    opinion: str = "",
    *,
    role: str = "school_registrar",
    org: str | None = None,
    at: str | None = None,
) -> StepInput:
    """``role`` of ``province`` takes a step, at the next tick unless ``at`` says when."""
    return StepInput(step_id=step_id, actor=person(province, role, org), at=at or tick(), opinion=opinion)


def copies_of(
    transfer_id: str = "t1",
    *,
    kind: TransferKind = TransferKind.CROSS_PROVINCE,
    origin: str = ORIGIN,
    destination: str = DESTINATION,
    chain: Sequence[ReviewLevel] = CROSS_CHAIN,
) -> dict[str, CaseCopy]:
    """Every province's copy of a newly opened case, by province (one copy inside a province)."""
    applicant = destination if KINDS[kind].applicant_side is Side.DESTINATION else origin
    line = apply_line(chain, step(f"{transfer_id}/apply", applicant))
    return {
        here: open_case(
            transfer_id=transfer_id,
            kind=kind,
            here=here,
            origin_province=origin,
            dest_province=destination,
            chain=chain,
            apply_line=line,
        )
        for here in dict.fromkeys((destination, origin))
    }


def checked(copy: CaseCopy, *, origin_ok: bool = True, destination_ok: bool = True) -> CaseCopy:
    """The copy after both checks came back; they fail nothing unless told to."""
    for side, ok in ((Side.ORIGIN, origin_ok), (Side.DESTINATION, destination_ok)):
        copy = record_check(copy, side, ok, () if ok else ("核验未通过",), tick()).copy
    return copy


def step_ids(copy: CaseCopy) -> list[str]:
    return [line.step_id for line in copy.lines]


def timeline_by_step(copy: CaseCopy) -> dict[str, TimelineLine]:
    """A copy's timeline as the parties compare it: by step id, whatever the order it arrived in."""
    return {line.step_id: line for line in copy.lines}
