"""业务流程配置: the most specific configured chain wins; defaults otherwise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.approval_chain import (
    DEFAULT_CHAINS,
    LEVELS,
    ChainRule,
    ChainSubject,
    resolve_chain,
    superior_of,
    under_supervisor,
    with_required_levels,
)

SUBJECT = ChainSubject("status_change:suspend", "secondary_vocational", "secondary_vocational", "410102")


def test_resolve_chain__default_without_rules() -> None:
    assert resolve_chain([], SUBJECT) == DEFAULT_CHAINS["status_change"]
    no_id = ChainSubject("registration_no_id", "x", "y", "410102")
    assert resolve_chain([], no_id) == ("school", "county", "city", "province")


def test_resolve_chain__exact_type_beats_family() -> None:
    rules = [
        ChainRule("status_change", ("school", "county", "city")),
        ChainRule("status_change:suspend", ("school",)),
    ]
    assert resolve_chain(rules, SUBJECT) == ("school",)


def test_resolve_chain__deeper_region_beats_shallower() -> None:
    rules = [
        ChainRule("status_change", ("school", "province"), region="41"),
        ChainRule("status_change", ("school", "city"), region="4101"),
        ChainRule("status_change", ("county",), region="4102"),  # another city: does not apply
    ]
    assert resolve_chain(rules, SUBJECT) == ("school", "city")


def test_resolve_chain__rule_for_another_school_type_does_not_apply() -> None:
    rules = [ChainRule("status_change", ("province",), school_type="technical_school")]
    assert resolve_chain(rules, SUBJECT) == DEFAULT_CHAINS["status_change"]


def test_resolve_chain__levels_come_out_bottom_up() -> None:
    rules = [ChainRule("status_change", ("province", "school", "province"))]
    assert resolve_chain(rules, SUBJECT) == ("school", "province")


def test_with_required_levels__province_added_once_in_order() -> None:
    assert with_required_levels(("school", "county"), ("province",)) == ("school", "county", "province")
    assert with_required_levels(("school", "province"), ("province",)) == ("school", "province")


_levels = st.lists(st.sampled_from(LEVELS), min_size=1, max_size=4)
_region = st.sampled_from([None, "41", "4101", "410102", "4102", "37"])
_rule = st.builds(
    ChainRule,
    business_type=st.sampled_from(["status_change", "status_change:suspend", "key_data_change"]),
    levels=_levels.map(tuple),
    school_type=st.sampled_from([None, "secondary_vocational", "technical_school"]),
    stage=st.sampled_from([None, "secondary_vocational"]),
    region=_region,
)


@given(st.lists(_rule, max_size=8))
def test_resolve_chain__always_a_climbing_chain_from_an_applicable_rule(rules: list[ChainRule]) -> None:
    chain = resolve_chain(rules, SUBJECT)
    assert chain and list(chain) == sorted(chain, key=LEVELS.index) and len(set(chain)) == len(chain)
    applicable = [
        r
        for r in rules
        if r.business_type in ("status_change", "status_change:suspend")
        and r.school_type in (None, "secondary_vocational")
        and (r.region is None or "410102".startswith(r.region))
    ]
    if applicable:
        assert chain in {tuple(lv for lv in LEVELS if lv in r.levels) for r in applicable}
    else:
        assert chain == DEFAULT_CHAINS["status_change"]


@given(st.lists(_rule, max_size=8))
def test_resolve_chain__order_of_rules_does_not_matter_for_distinct_keys(rules: list[ChainRule]) -> None:
    unique = list({(r.business_type, r.school_type, r.stage, r.region): r for r in rules}.values())
    assert resolve_chain(unique, SUBJECT) == resolve_chain(list(reversed(unique)), SUBJECT)


def test_superior_of__one_level_up_province_to_itself() -> None:
    assert [superior_of(lv) for lv in LEVELS] == ["county", "city", "province", "province"]


def test_under_supervisor__city_run_school_skips_the_county() -> None:
    full = LEVELS
    assert under_supervisor(full, None) == full
    assert under_supervisor(full, "city") == ("school", "city", "province")
    assert under_supervisor(full, "province") == ("school", "province")
    assert under_supervisor(("school", "county"), "city") == ("school",)
