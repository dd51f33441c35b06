"""The graduation rules as plain values: who is on the pre-graduate list and what blocks them,
the list's review along its chain, and the rollback windows (domain/graduation_*.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.certificates.domain.graduation_readiness import (
    MAX_DELAY_YEARS,
    OPEN_STATUSES,
    Block,
    StudentFacts,
    graduation_readiness,
    may_list_year,
    normal_end_year,
    outcome_refusals,
)
from services.certificates.domain.graduation_review import (
    DEFAULT_CHAIN,
    LEVEL_ORDER,
    Approve,
    ChainNotAllowed,
    Issue,
    ListState,
    Return,
    TransitionNotAllowed,
    chain_for_list,
    may_decide,
    submitted,
    transition,
    valid_chain,
)
from services.certificates.domain.graduation_rollback import RollbackRefused, may_roll_back, months_after
from shared.auth import Role
from shared.events.common import STUDENT_STATUS_LABELS

YEAR = 2027
READY = StudentFacts(
    status="in_school",
    grade=2024,
    study_length=3.0,
    filed_intake_year=2024,
    qualification_filed=True,
    open_problem_record=False,
)

# --- readiness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "length", "season", "end"),
    [
        (2024, 3.0, "autumn", 2027),
        (2024, 2.5, "autumn", 2027),  # March 2027 rounds up to the June
        (2024, 3.5, "autumn", 2028),
        (2024, 1.0, "autumn", 2025),
        (2024, 6.0, "autumn", 2030),
        (2024, 2.5, "spring", 2026),  # spring 2024 + 2.5 years ends with the 2025/26 school year
        (2024, 3.0, "spring", 2027),
    ],
)
def test_normal_end_year__rounds_up_to_the_next_june(
    start: int, length: float, season: str, end: int
) -> None:
    assert normal_end_year(start, length, season) == end  # type: ignore[arg-type]


def test_graduation_readiness__clear_record_due_this_year_is_ready() -> None:
    readiness = graduation_readiness(READY, YEAR)
    assert readiness.listed and readiness.ready and not readiness.late
    assert readiness.normal_end_year == YEAR


@pytest.mark.parametrize(
    ("change", "block"),
    [
        ({"filed_intake_year": None}, Block.NOT_FILED),
        ({"qualification_filed": False}, Block.NO_QUALIFICATION),
        ({"open_problem_record": True}, Block.OPEN_PROBLEM_RECORD),
        ({"status": "suspended"}, Block.SUSPENDED),
        ({"status": "withdrawn"}, Block.NOT_IN_SCHOOL),
        ({"status": "on_leave"}, Block.NOT_IN_SCHOOL),
        ({"grade": 2025}, Block.STUDY_NOT_COMPLETED),  # repeated a year: filed with the 2024 class
    ],
)
def test_graduation_readiness__each_block_alone(change: dict[str, object], block: Block) -> None:
    readiness = graduation_readiness(replace(READY, **change), YEAR)  # type: ignore[arg-type]
    assert readiness.listed
    assert readiness.blocks == (block,)
    assert block.reason and block.reason_zh


def test_graduation_readiness__not_due_yet_is_not_listed() -> None:
    assert not graduation_readiness(replace(READY, grade=2025, filed_intake_year=2025), YEAR).listed


def test_graduation_readiness__closed_record_only_in_its_own_year() -> None:
    withdrawn = replace(READY, status="withdrawn")
    assert graduation_readiness(withdrawn, YEAR).listed
    assert not graduation_readiness(withdrawn, YEAR + 1).listed


@pytest.mark.parametrize(
    ("delay", "late"), [(1, False), (MAX_DELAY_YEARS, False), (MAX_DELAY_YEARS + 1, True)]
)
def test_graduation_readiness__postponed_up_to_three_years_then_late(delay: int, late: bool) -> None:
    readiness = graduation_readiness(READY, YEAR + delay)
    assert readiness.listed and readiness.ready
    assert readiness.late is late


def test_outcome_refusals__left_without_completing_tolerates_unfinished_and_suspended() -> None:
    suspended_repeater = replace(READY, status="suspended", grade=2025)
    readiness = graduation_readiness(suspended_repeater, YEAR)
    assert set(readiness.blocks) == {Block.SUSPENDED, Block.STUDY_NOT_COMPLETED}
    assert outcome_refusals(readiness, "left_without_completing") == ()
    assert set(outcome_refusals(readiness, "graduated")) == set(readiness.blocks)
    assert set(outcome_refusals(readiness, "completed")) == set(readiness.blocks)


def test_outcome_refusals__left_without_completing_still_needs_a_filed_record() -> None:
    readiness = graduation_readiness(replace(READY, filed_intake_year=None, status="suspended"), YEAR)
    assert set(readiness.blocks) == {Block.NOT_FILED, Block.SUSPENDED}
    assert outcome_refusals(readiness, "left_without_completing") == (Block.NOT_FILED,)


@pytest.mark.parametrize(
    ("today", "year", "allowed"),
    [
        (date(2026, 8, 31), 2026, True),
        (date(2026, 8, 31), 2027, False),
        (date(2026, 9, 1), 2027, True),
        (date(2026, 9, 1), 2028, False),
        (date(2026, 9, 1), 2019, True),
    ],
)
def test_may_list_year__final_school_year_or_earlier(today: date, year: int, allowed: bool) -> None:
    assert may_list_year(year, today) is allowed


students = st.builds(
    StudentFacts,
    status=st.sampled_from(sorted(STUDENT_STATUS_LABELS)),
    grade=st.integers(2010, 2030),
    study_length=st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0]),
    filed_intake_year=st.none() | st.integers(2010, 2030),
    qualification_filed=st.booleans(),
    open_problem_record=st.booleans(),
    season=st.sampled_from(["autumn", "spring"]),
)


@given(students, st.integers(2015, 2035))
def test_graduation_readiness__over_generated_students(facts: StudentFacts, year: int) -> None:
    readiness = graduation_readiness(facts, year)
    intake = facts.grade if facts.filed_intake_year is None else facts.filed_intake_year
    due = min(
        normal_end_year(facts.grade, facts.study_length, facts.season),
        normal_end_year(intake, facts.study_length, facts.season),
    )
    # Listed: due this year, or overdue with a record still open; nobody due later.
    assert readiness.listed == (due == year or (due < year and facts.status in OPEN_STATUSES))
    if not readiness.listed:
        assert readiness.blocks == () and not readiness.late and not readiness.ready
        return
    clear = (
        facts.filed_intake_year is not None
        and facts.qualification_filed
        and not facts.open_problem_record
        and facts.status == "in_school"
        and readiness.normal_end_year <= year
    )
    assert readiness.ready == clear
    assert len(set(readiness.blocks)) == len(readiness.blocks)
    assert outcome_refusals(readiness, "graduated") == readiness.blocks
    # 肄业 is never harder to get than 毕业.
    assert set(outcome_refusals(readiness, "left_without_completing")) <= set(readiness.blocks)
    if readiness.late:
        assert facts.status in OPEN_STATUSES


# --- the review machine --------------------------------------------------------------------------


def test_transition__default_chain_school_then_county_then_issue() -> None:
    review = submitted(DEFAULT_CHAIN)
    assert review.pending_level == "school"
    review = transition(review, Approve("school"))
    assert review.state is ListState.UNDER_REVIEW and review.pending_level == "county"
    review = transition(review, Approve("county"))
    assert review.state is ListState.APPROVED and review.pending_level is None
    assert transition(review, Issue()).state is ListState.ISSUED


def test_transition__return_ends_the_list() -> None:
    review = transition(transition(submitted(DEFAULT_CHAIN), Approve("school")), Return("county"))
    assert review.state is ListState.RETURNED
    for action in (Approve("county"), Return("county"), Issue()):
        with pytest.raises(TransitionNotAllowed):
            transition(review, action)


def test_transition__only_the_pending_level_decides() -> None:
    with pytest.raises(TransitionNotAllowed) as refused:
        transition(submitted(DEFAULT_CHAIN), Approve("county"))
    assert "school" in refused.value.reason and refused.value.reason_zh


def test_transition__issue_needs_an_approved_list() -> None:
    with pytest.raises(TransitionNotAllowed):
        transition(submitted(DEFAULT_CHAIN), Issue())


chains = st.lists(st.sampled_from(LEVEL_ORDER), unique=True, min_size=1).map(
    lambda levels: sorted(levels, key=LEVEL_ORDER.index)
)
actions = st.lists(
    st.one_of(
        st.builds(Approve, st.sampled_from(LEVEL_ORDER)),
        st.builds(Return, st.sampled_from(LEVEL_ORDER)),
        st.just(Issue()),
    ),
    max_size=12,
)


@given(chains.filter(lambda c: c[-1] != "school"), actions)
def test_transition__no_action_sequence_reaches_an_illegal_state(
    chain: list[str], sequence: list[Approve | Return | Issue]
) -> None:
    review = submitted(valid_chain(chain))
    approved: list[str] = []
    for action in sequence:
        before = review
        try:
            review = transition(review, action)
        except TransitionNotAllowed:
            assert review == before
            continue
        if isinstance(action, Approve):
            approved.append(action.level)
        assert 0 <= review.level_index < len(review.levels)
        if before.state in (ListState.RETURNED, ListState.ISSUED):
            raise AssertionError("a final list moved")
    # Approved or issued only after every level approved, in the chain's order, once each.
    if review.state in (ListState.APPROVED, ListState.ISSUED):
        assert tuple(approved) == review.levels
    else:
        assert tuple(approved) == review.levels[: len(approved)]


@given(chains)
def test_valid_chain__ordered_levels_with_a_bureau(chain: list[str]) -> None:
    if chain == ["school"]:
        with pytest.raises(ChainNotAllowed):
            valid_chain(chain)
    else:
        assert valid_chain(chain) == tuple(chain)


@pytest.mark.parametrize(
    "levels",
    [
        [],
        ["school"],
        ["county", "school"],
        ["county", "county"],
        ["county", "ministry"],
        ["province", "city"],
    ],
)
def test_valid_chain__refuses(levels: list[str]) -> None:
    with pytest.raises(ChainNotAllowed) as refused:
        valid_chain(levels)
    assert refused.value.reason_zh


def test_chain_for_list__late_graduation_needs_the_province_once() -> None:
    assert chain_for_list(DEFAULT_CHAIN, has_late_graduation=False) == DEFAULT_CHAIN
    assert chain_for_list(DEFAULT_CHAIN, has_late_graduation=True) == ("school", "county", "province")
    assert chain_for_list(("county", "province"), has_late_graduation=True) == ("county", "province")


def test_may_decide__the_lists_own_offices() -> None:
    lineage = {"province": "41", "city": "4101", "county": "410102", "school": "4141020001"}
    assert may_decide(Role.SCHOOL_LEADER, "4141020001", "school", lineage)
    assert not may_decide(Role.SCHOOL_REGISTRAR, "4141020001", "school", lineage)
    assert not may_decide(Role.SCHOOL_LEADER, "4141020002", "school", lineage)
    assert may_decide(Role.COUNTY, "410102", "county", lineage)
    assert not may_decide(Role.COUNTY, "410103", "county", lineage)
    assert not may_decide(Role.CITY, "4101", "county", lineage)
    assert may_decide(Role.PROVINCE, "41", "province", lineage)


# --- rollback windows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "later"),
    [
        (date(2026, 6, 11), date(2026, 12, 11)),
        (date(2026, 8, 31), date(2027, 2, 28)),
        (date(2027, 8, 31), date(2028, 2, 29)),
        (date(2026, 7, 15), date(2027, 1, 15)),
    ],
)
def test_months_after__calendar_months(day: date, later: date) -> None:
    assert months_after(day, 6) == later


@pytest.mark.parametrize("role", [Role.COUNTY, Role.CITY])
def test_may_roll_back__bureau_on_the_boundary_day_then_not(role: Role) -> None:
    graduated = date(2026, 6, 11)
    assert may_roll_back(role, graduated, date(2026, 12, 11), "录入错误") == role.value
    with pytest.raises(RollbackRefused) as refused:
        may_roll_back(role, graduated, date(2026, 12, 12), "录入错误")
    assert "province" in refused.value.reason and "省教育厅" in refused.value.reason_zh


def test_may_roll_back__province_any_time() -> None:
    assert may_roll_back(Role.PROVINCE, date(2020, 6, 11), date(2026, 12, 12), "追溯撤销") == "province"


@pytest.mark.parametrize("role", [Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.STUDENT, Role.MINISTRY])
def test_may_roll_back__schools_and_others_never(role: Role) -> None:
    with pytest.raises(RollbackRefused):
        may_roll_back(role, date(2026, 6, 11), date(2026, 6, 12), "录入错误")


def test_may_roll_back__needs_a_reason() -> None:
    with pytest.raises(RollbackRefused):
        may_roll_back(Role.PROVINCE, date(2026, 6, 11), date(2026, 6, 12), "  ")


@given(
    st.dates(date(2000, 1, 1), date(2090, 12, 31)),
    st.integers(0, 400),
    st.sampled_from([Role.COUNTY, Role.CITY, Role.PROVINCE]),
)
def test_may_roll_back__window_over_generated_dates(graduated: date, days: int, role: Role) -> None:
    today = graduated + timedelta(days=days)
    within = today <= months_after(graduated, 6)
    try:
        may_roll_back(role, graduated, today, "原因")
        allowed = True
    except RollbackRefused:
        allowed = False
    assert allowed == (within or role is Role.PROVINCE)
    # Half a year is never less than 181 days nor more than 184.
    assert 181 <= (months_after(graduated, 6) - graduated).days <= 184
