import itertools
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.miss_rules import MissRule, Prompt, RoundOutcome, prompts_due

TWO = MissRule.TWO_CONSECUTIVE
FOUR = MissRule.FOUR_CUMULATIVE


def history(pattern: str) -> list[RoundOutcome]:
    """'m' missed, 'x' missed but excused, '.' checked in; round ids r0, r1, …"""
    return [RoundOutcome(f"r{i}", missed=c in "mx", excused=c == "x") for i, c in enumerate(pattern)]


def test_prompts_due__two_consecutive_misses() -> None:
    assert prompts_due(history(".mm")) == [Prompt(TWO, ("r1", "r2"))]


def test_prompts_due__two_misses_apart_are_not_consecutive() -> None:
    assert prompts_due(history("m.m")) == []


def test_prompts_due__four_cumulative_misses() -> None:
    assert prompts_due(history("m.m.m.m")) == [Prompt(FOUR, ("r0", "r2", "r4", "r6"))]


def test_prompts_due__three_are_not_four() -> None:
    assert prompts_due(history("m.m.m.")) == []


def test_prompts_due__an_excused_miss_is_not_counted_and_breaks_a_run() -> None:
    assert prompts_due(history("mxm")) == []
    assert prompts_due(history("m.mxm.x")) == []  # three without reason, none adjacent


def test_prompts_due__no_second_prompt_for_the_same_misses() -> None:
    first = prompts_due(history("mm"))
    assert prompts_due(history("mm"), first) == []


def test_prompts_due__a_third_consecutive_miss_does_not_prompt_again_a_fourth_does() -> None:
    fired = prompts_due(history("mm"))
    assert prompts_due(history("mmm"), fired) == []
    assert prompts_due(history("mmmm"), fired) == [
        Prompt(TWO, ("r2", "r3")),
        Prompt(FOUR, ("r0", "r1", "r2", "r3")),
    ]


def test_prompts_due__a_withdrawn_prompt_is_not_passed_and_its_misses_are_excused() -> None:
    # The appeal against (r0, r1) was accepted: both excused, the prompt withdrawn.
    assert prompts_due(history("xx.m")) == []
    assert prompts_due(history("xx.mm")) == [Prompt(TWO, ("r3", "r4"))]


patterns = st.text(alphabet="m.x", max_size=14)


def _incrementally(h: list[RoundOutcome]) -> list[Prompt]:
    fired: list[Prompt] = []
    for end in range(1, len(h) + 1):
        fired += prompts_due(h[:end], fired)
    return fired


@given(patterns)
def test_prompts_due__asking_again_with_what_fired_raises_nothing(pattern: str) -> None:
    h = history(pattern)
    assert prompts_due(h, prompts_due(h)) == []


@given(patterns)
def test_prompts_due__round_by_round_fires_what_the_whole_term_does(pattern: str) -> None:
    h = history(pattern)
    assert sorted(_incrementally(h), key=repr) == sorted(prompts_due(h), key=repr)


@given(patterns)
def test_prompts_due__every_prompt_is_made_of_misses_without_reason_used_once_per_rule(pattern: str) -> None:
    h = history(pattern)
    counting = {o.round_id for o in h if o.counts}
    position = {o.round_id: i for i, o in enumerate(h)}
    prompts = prompts_due(h)
    for rule in MissRule:
        used = [r for p in prompts if p.rule is rule for r in p.round_ids]
        assert len(used) == len(set(used))
    for p in prompts:
        assert set(p.round_ids) <= counting
        if p.rule is TWO:
            a, b = (position[r] for r in p.round_ids)
            assert b == a + 1
        else:
            assert len(p.round_ids) == 4
    assert len([p for p in prompts if p.rule is FOUR]) == len(counting) // 4


@given(patterns)
def test_prompts_due__a_rule_fires_exactly_when_the_seed_says(pattern: str) -> None:
    h = history(pattern)
    adjacent = any(a.counts and b.counts for a, b in itertools.pairwise(h))
    prompts = prompts_due(h)
    assert any(p.rule is TWO for p in prompts) == adjacent
    assert any(p.rule is FOUR for p in prompts) == (sum(o.counts for o in h) >= 4)


@given(patterns, st.data())
def test_prompts_due__excusing_a_miss_never_adds_a_prompt(pattern: str, data: st.DataObject) -> None:
    h = history(pattern)
    missed = [i for i, o in enumerate(h) if o.counts]
    if not missed:
        return
    i = data.draw(st.sampled_from(missed))
    excused = [replace(o, excused=True) if j == i else o for j, o in enumerate(h)]
    for rule in MissRule:
        before = [p for p in prompts_due(h) if p.rule is rule]
        after = [p for p in prompts_due(excused) if p.rule is rule]
        assert len(after) <= len(before)
