"""Configurable approval chains (业务流程配置, seed 002; DOMAIN.md "Status changes", "Enrollment").

The province configures, per business type, school type, education stage and region, which
levels review. ``resolve_chain`` picks the most specific configured rule and falls back to the
defaults below; ``with_required_levels`` adds the levels a rule of DOMAIN.md makes mandatory
whatever the configuration says (a student without ID is approved by the province, a change back
to full-time study goes to the province), so a province cannot configure its way around them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

ReviewLevel = Literal["school", "county", "city", "province"]
LEVELS: tuple[ReviewLevel, ...] = get_args(ReviewLevel)

# Business types the chain is configured for; "status_change:<type>" names one change type, the
# bare "status_change" family rule applies to every type without a rule of its own. Graduation
# and transfers reuse the mechanism later under their own names; "problem_record:<choice>" is a
# school's change or delete of a problem record.
BUSINESS_FAMILIES = (
    "registration_no_id",
    "status_change",
    "key_data_change",
    "graduation",
    "transfer",
    "problem_record",
)

# DOMAIN.md "Enrollment": no-ID students are approved by school, county, city and province.
# "Status changes": the school starts, each reviewing level has 10 working days; a school leader
# and the supervising county bureau is the common chain of seed 002's default flow.
DEFAULT_CHAINS: dict[str, tuple[ReviewLevel, ...]] = {
    "registration_no_id": ("school", "county", "city", "province"),
    "status_change": ("school", "county"),
    "key_data_change": ("school", "county"),
    "graduation": ("school", "county"),
    "transfer": ("school", "county"),
    # Seed 002 问题学籍: a school's change (变更) or delete (删除) of a problem record goes to the
    # school leader (学籍主管领导), then the supervising bureau, "and higher where the flow says"
    # ("problem_record:change" / "problem_record:delete" may be configured apart).
    "problem_record": ("school", "county"),
}
FALLBACK_CHAIN: tuple[ReviewLevel, ...] = ("school", "county")


@dataclass(frozen=True)
class ChainRule:
    """One row of the province's configuration; ``None`` matches any value."""

    business_type: str
    levels: tuple[ReviewLevel, ...]
    school_type: str | None = None
    stage: str | None = None
    region: str | None = None  # a province, city or county code: the rule applies beneath it


@dataclass(frozen=True)
class ChainSubject:
    """What the chain is chosen for: the business and the school the item belongs to."""

    business_type: str
    school_type: str
    stage: str
    county: str  # 6-digit code; its city and province are its prefixes


def family_of(business_type: str) -> str:
    return business_type.split(":", 1)[0]


def is_known_business_type(business_type: str) -> bool:
    return family_of(business_type) in BUSINESS_FAMILIES


def _specificity(rule: ChainRule, subject: ChainSubject) -> tuple[int, ...] | None:
    """How closely a rule fits, or None if it does not apply. An exact business type beats its
    family; then region depth (county > city > province > any), then school type, then stage."""
    if rule.business_type == subject.business_type:
        business = 2
    elif rule.business_type == family_of(subject.business_type):
        business = 1
    else:
        return None
    if rule.school_type is not None and rule.school_type != subject.school_type:
        return None
    if rule.stage is not None and rule.stage != subject.stage:
        return None
    if rule.region is not None and not subject.county.startswith(rule.region):
        return None
    return (business, len(rule.region or ""), rule.school_type is not None, rule.stage is not None)


def resolve_chain(rules: Iterable[ChainRule], subject: ChainSubject) -> tuple[ReviewLevel, ...]:
    """The levels that review ``subject``: the most specific rule, else the default."""
    best: tuple[tuple[int, ...], ChainRule] | None = None
    for rule in rules:
        score = _specificity(rule, subject)
        if score is not None and (best is None or score > best[0]):
            best = (score, rule)
    if best is not None:
        return normalise_levels(best[1].levels)
    return DEFAULT_CHAINS.get(family_of(subject.business_type), FALLBACK_CHAIN)


def normalise_levels(levels: Iterable[ReviewLevel]) -> tuple[ReviewLevel, ...]:
    """Bottom-up order, each level once: a chain always climbs the tree."""
    wanted = set(levels)
    return tuple(level for level in LEVELS if level in wanted)


def with_required_levels(
    chain: Sequence[ReviewLevel], required: Iterable[ReviewLevel]
) -> tuple[ReviewLevel, ...]:
    return normalise_levels([*chain, *required])


def superior_of(level: ReviewLevel) -> ReviewLevel:
    """Who an overdue step is flagged to: the next level up (the province flags itself)."""
    index = LEVELS.index(level)
    return LEVELS[min(index + 1, len(LEVELS) - 1)]


def under_supervisor(chain: Sequence[ReviewLevel], supervisor: ReviewLevel | None) -> tuple[ReviewLevel, ...]:
    """A school supervised directly by a city bureau or the province (市直/省直学校, its 主管部门)
    has no county (or city) bureau above it: those levels drop out of its chains, the school's
    own step stays. ``None`` means the county the school sits in supervises it."""
    if supervisor is None or supervisor == "school":
        return tuple(chain)
    floor = LEVELS.index(supervisor)
    return tuple(level for level in chain if level == "school" or LEVELS.index(level) >= floor)
