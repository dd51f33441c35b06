"""Every kind of transfer by its code, and the chain a case of a kind gets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from services.transfer.domain.cross_province_transfer import CROSS_PROVINCE
from services.transfer.domain.in_province_transfer import IN_PROVINCE, JOINT_PROGRAMME, with_escalation
from services.transfer.domain.kind_rules import KindRules
from services.transfer.domain.review_levels import ReviewLevel
from services.transfer.domain.study_after_graduation import AFTER_GRADUATION
from shared.events.transfer import TransferKind

KINDS: Mapping[TransferKind, KindRules] = MappingProxyType(
    {rules.kind: rules for rules in (IN_PROVINCE, JOINT_PROGRAMME, CROSS_PROVINCE, AFTER_GRADUATION)}
)


class ChainNotAllowed(ValueError):
    """A configured chain the kind cannot run; the reason names the offending level."""


def configured_part(rules: KindRules, configured: Sequence[ReviewLevel] | None) -> tuple[ReviewLevel, ...]:
    """The levels this province configured for its part of the kind's chain, checked: only its
    own levels, no repeats, and the applicant school first (it vouches for the application)."""
    if configured is None:
        return tuple(level for level in rules.default_chain if level in rules.configurable_levels)
    chain = tuple(configured)
    for level in chain:
        if level not in rules.configurable_levels:
            raise ChainNotAllowed(
                f"{level.value} is not a level this province configures for {rules.kind.value}"
            )
    if len(set(chain)) != len(chain):
        raise ChainNotAllowed("a level appears twice")
    if not chain or chain[0] is not rules.applicant_level:
        raise ChainNotAllowed(f"the chain must start with {rules.applicant_level.value}")
    return chain


def chain_for(
    rules: KindRules,
    configured: Sequence[ReviewLevel] | None = None,
    *,
    crosses_cities: bool = False,
    batch_size: int = 1,
) -> tuple[ReviewLevel, ...]:
    """The chain of a new case: the applicant province's configured part (or the default), the
    other province's part from the national flow, and the escalation the rules require."""
    own = configured_part(rules, configured)
    if rules.crosses_provinces:
        return own + tuple(level for level in rules.default_chain if level not in rules.configurable_levels)
    return with_escalation(own, crosses_cities=crosses_cities, batch_size=batch_size)
