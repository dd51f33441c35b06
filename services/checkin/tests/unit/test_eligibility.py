from dataclasses import replace
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from services.checkin.domain.eligibility import Candidate, Eligibility, RoundScope, eligibility

STUDENT = Candidate(
    status="in_school",
    study_form="full_time",
    grade=2024,
    province_code="41",
    city_code="4101",
    county_code="410102",
    school_code="4141010001",
)
PROVINCE_ROUND = RoundScope(
    kind="verification", grades=(2023, 2024, 2025), scope_level="province", scope_code="41"
)
REGISTRATION = replace(PROVINCE_ROUND, kind="registration")


def test_eligibility__full_time_student_in_school_of_a_grade_in_scope() -> None:
    assert eligibility(PROVINCE_ROUND, STUDENT, on_leave=False) is Eligibility.ELIGIBLE


def test_eligibility__grade_not_in_scope() -> None:
    assert eligibility(PROVINCE_ROUND, replace(STUDENT, grade=2022), False) is Eligibility.OUT_OF_SCOPE


def test_eligibility__empty_grades_call_every_grade() -> None:
    every = replace(PROVINCE_ROUND, grades=())
    assert eligibility(every, replace(STUDENT, grade=2019), False) is Eligibility.ELIGIBLE


def test_eligibility__another_county_is_out_of_scope() -> None:
    county_round = replace(PROVINCE_ROUND, scope_level="county", scope_code="410103")
    assert eligibility(county_round, STUDENT, False) is Eligibility.OUT_OF_SCOPE
    own = replace(county_round, scope_code="410102")
    assert eligibility(own, STUDENT, False) is Eligibility.ELIGIBLE


def test_eligibility__a_school_round_calls_only_its_school() -> None:
    school_round = replace(PROVINCE_ROUND, scope_level="school", scope_code="4141010002")
    assert eligibility(school_round, STUDENT, False) is Eligibility.OUT_OF_SCOPE


def test_eligibility__not_in_school() -> None:
    for status in ("suspended", "withdrawn", "graduated", "transferred_out", "dropout"):
        assert (
            eligibility(PROVINCE_ROUND, replace(STUDENT, status=status), False) is Eligibility.NOT_IN_SCHOOL
        )


def test_eligibility__non_full_time_only_in_registration_rounds() -> None:
    part_time = replace(STUDENT, study_form="part_time")
    assert eligibility(PROVINCE_ROUND, part_time, False) is Eligibility.NOT_FULL_TIME
    assert eligibility(REGISTRATION, part_time, False) is Eligibility.ELIGIBLE


def test_eligibility__approved_leave_exempts() -> None:
    assert eligibility(PROVINCE_ROUND, STUDENT, on_leave=True) is Eligibility.ON_LEAVE
    assert eligibility(REGISTRATION, STUDENT, on_leave=True) is Eligibility.ON_LEAVE


def test_eligibility__every_refusal_has_chinese_text() -> None:
    for verdict in Eligibility:
        assert verdict.text and any("\u4e00" <= ch <= "\u9fff" for ch in verdict.text)
    assert Eligibility.NOT_FULL_TIME.text == "非全日制学生只参加每年两次学籍注册"


def test_round_scope_of__reads_a_round_row() -> None:
    row = SimpleNamespace(kind="verification", grades=[2024], scope_level="city", scope_code="4101")
    assert RoundScope.of(row) == RoundScope("verification", (2024,), "city", "4101")
    assert (
        RoundScope.of(
            SimpleNamespace(kind="verification", grades=None, scope_level="province", scope_code="41")
        ).grades
        == ()
    )


def test_candidate_of__reads_a_student_view_row() -> None:
    row = SimpleNamespace(**STUDENT.__dict__, name="王小明", student_id="s1")
    assert Candidate.of(row) == STUDENT


statuses = st.sampled_from(["in_school", "on_leave", "suspended", "withdrawn", "graduated"])
forms = st.sampled_from(["full_time", "part_time"])
kinds = st.sampled_from(["registration", "verification"])


@given(statuses, forms, kinds, st.booleans(), st.integers(2015, 2030))
def test_eligibility__eligible_exactly_when_every_condition_holds(
    status: str, form: str, kind: str, on_leave: bool, grade: int
) -> None:
    student = replace(STUDENT, status=status, study_form=form, grade=grade)
    round_ = replace(PROVINCE_ROUND, kind=kind)
    expected = (
        grade in round_.grades
        and status == "in_school"
        and not on_leave
        and (form == "full_time" or kind == "registration")
    )
    assert eligibility(round_, student, on_leave).eligible == expected
