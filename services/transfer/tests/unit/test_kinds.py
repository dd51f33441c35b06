"""The chain a new case of each kind gets (domain/kinds.py, in_province_transfer.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.transfer.domain.kind_rules import KindRules
from services.transfer.domain.kinds import KINDS, ChainNotAllowed, chain_for
from services.transfer.domain.review_levels import ReviewLevel
from shared.events.transfer import TransferKind

L = ReviewLevel
IN_PROVINCE = KINDS[TransferKind.IN_PROVINCE]
CROSS = KINDS[TransferKind.CROSS_PROVINCE]
AFTER_GRADUATION = KINDS[TransferKind.AFTER_GRADUATION]


def test_kinds__every_kind_is_registered_under_its_code() -> None:
    assert set(KINDS) == set(TransferKind)
    assert all(rules.kind is kind for kind, rules in KINDS.items())


@pytest.mark.parametrize(
    ("kind", "chain"),
    [
        (TransferKind.IN_PROVINCE, (L.ORIGIN_SCHOOL, L.DEST_SCHOOL, L.ORIGIN_COUNTY, L.DEST_COUNTY)),
        (TransferKind.JOINT_PROGRAMME, (L.ORIGIN_SCHOOL, L.DEST_SCHOOL, L.ORIGIN_COUNTY, L.DEST_COUNTY)),
        (TransferKind.CROSS_PROVINCE, (L.DEST_SCHOOL, L.DEST_COUNTY, L.ORIGIN_SCHOOL, L.ORIGIN_COUNTY)),
        (TransferKind.AFTER_GRADUATION, (L.DEST_SCHOOL, L.DEST_COUNTY, L.ORIGIN_COUNTY)),
    ],
)
def test_chain_for__default_per_kind(kind: TransferKind, chain: tuple[ReviewLevel, ...]) -> None:
    assert chain_for(KINDS[kind]) == chain


@pytest.mark.parametrize("kind", list(TransferKind))
def test_chain_for__starts_with_the_applicant_school(kind: TransferKind) -> None:
    rules = KINDS[kind]
    assert chain_for(rules)[0] is rules.applicant_level


def test_chain_for__cross_province_appends_the_national_origin_part_to_the_configured_one() -> None:
    configured = [L.DEST_SCHOOL, L.DEST_CITY, L.DEST_PROVINCE]
    assert chain_for(CROSS, configured) == (*configured, L.ORIGIN_SCHOOL, L.ORIGIN_COUNTY)
    assert chain_for(AFTER_GRADUATION, [L.DEST_SCHOOL]) == (L.DEST_SCHOOL, L.ORIGIN_COUNTY)


@pytest.mark.parametrize("rules", [CROSS, AFTER_GRADUATION], ids=lambda r: r.kind.value)
@pytest.mark.parametrize("foreign", [L.ORIGIN_SCHOOL, L.ORIGIN_COUNTY, L.ORIGIN_CITY, L.ORIGIN_PROVINCE])
def test_chain_for__refuses_the_other_provinces_levels(rules: KindRules, foreign: ReviewLevel) -> None:
    with pytest.raises(ChainNotAllowed, match=foreign.value):
        chain_for(rules, [L.DEST_SCHOOL, foreign])


def test_chain_for__refuses_a_repeated_level() -> None:
    with pytest.raises(ChainNotAllowed, match="twice"):
        chain_for(IN_PROVINCE, [L.ORIGIN_SCHOOL, L.DEST_SCHOOL, L.DEST_SCHOOL])


@pytest.mark.parametrize(
    ("rules", "configured"),
    [
        (IN_PROVINCE, [L.DEST_SCHOOL, L.ORIGIN_SCHOOL]),
        (IN_PROVINCE, []),
        (CROSS, [L.DEST_COUNTY, L.DEST_SCHOOL]),
        (AFTER_GRADUATION, []),
    ],
)
def test_chain_for__refuses_a_chain_not_starting_with_the_applicant_school(
    rules: KindRules, configured: list[ReviewLevel]
) -> None:
    with pytest.raises(ChainNotAllowed, match=rules.applicant_level.value):
        chain_for(rules, configured)


def test_chain_for__in_province_between_cities_escalates_to_both_cities_and_the_province() -> None:
    assert chain_for(IN_PROVINCE, crosses_cities=True) == (
        *IN_PROVINCE.default_chain,
        L.ORIGIN_CITY,
        L.DEST_CITY,
        L.ORIGIN_PROVINCE,
    )


def test_chain_for__batch_of_30_escalates_through_the_city_to_the_province() -> None:
    assert chain_for(IN_PROVINCE, batch_size=30) == (
        *IN_PROVINCE.default_chain,
        L.ORIGIN_CITY,
        L.ORIGIN_PROVINCE,
    )


def test_chain_for__batch_of_29_in_one_city_stays_with_the_counties() -> None:
    assert chain_for(IN_PROVINCE, batch_size=29) == IN_PROVINCE.default_chain


def test_chain_for__escalation_adds_no_level_the_province_configured_already() -> None:
    configured = [L.ORIGIN_SCHOOL, L.DEST_SCHOOL, L.ORIGIN_CITY, L.DEST_PROVINCE]
    assert chain_for(IN_PROVINCE, configured, crosses_cities=True) == (*configured, L.DEST_CITY)


@given(
    kind=st.sampled_from([TransferKind.IN_PROVINCE, TransferKind.JOINT_PROGRAMME]),
    crosses_cities=st.booleans(),
    batch_size=st.integers(min_value=1, max_value=200),
)
def test_chain_for__province_reviews_exactly_when_art_12_says(
    kind: TransferKind, crosses_cities: bool, batch_size: int
) -> None:
    chain = chain_for(KINDS[kind], crosses_cities=crosses_cities, batch_size=batch_size)
    needs_province = crosses_cities or batch_size >= 30
    assert (L.ORIGIN_PROVINCE in chain) == needs_province
    assert (L.ORIGIN_CITY in chain) == needs_province
    assert (L.DEST_CITY in chain) == crosses_cities
    assert len(set(chain)) == len(chain)
    assert chain[: len(KINDS[kind].default_chain)] == KINDS[kind].default_chain
