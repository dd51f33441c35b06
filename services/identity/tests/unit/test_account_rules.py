from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.identity.domain.account_management import may_create, may_manage
from services.identity.domain.account_state import AccountState, Activated, ActivationNotAllowed, transition
from services.identity.domain.activation import (
    ClaimedIdentity,
    RecordIdentity,
    claim_matches_record,
    code_may_be_tried,
    is_mobile_number,
    phone_is_free_for,
)
from services.identity.domain.login_throttle import ADDRESS_FACTOR, is_locked_out
from services.identity.domain.one_time_password import ALPHABET, one_time_password, phone_code
from services.identity.domain.password_policy import password_weakness
from services.identity.domain.template_retention import DEFAULT_RETENTION, is_due, template_delete_on
from shared.auth import Role


@given(st.integers(0, 100), st.integers(0, 1000), st.integers(1, 20))
def test_is_locked_out__at_the_account_or_the_address_limit(account: int, address: int, limit: int) -> None:
    assert is_locked_out(account, address, limit) == (account >= limit or address >= limit * ADDRESS_FACTOR)


def test_may_create__registrars_counselors_bureaus_registrars() -> None:
    assert may_create(Role.SCHOOL_REGISTRAR, Role.COUNSELOR)
    assert not may_create(Role.SCHOOL_REGISTRAR, Role.SCHOOL_REGISTRAR)
    assert may_create(Role.COUNTY, Role.SCHOOL_REGISTRAR)
    assert not may_create(Role.COUNTY, Role.COUNSELOR)
    assert not any(may_create(Role.STUDENT, r) or may_create(Role.COUNSELOR, r) for r in Role)


@given(st.sampled_from(list(Role)), st.sampled_from(list(Role)))
def test_may_manage__nobody_manages_their_own_role(manager: Role, target: Role) -> None:
    if manager is target:
        assert not may_manage(manager, target)


def test_transition__activation_only_from_not_activated() -> None:
    assert transition(AccountState.NOT_ACTIVATED, Activated()) is AccountState.ACTIVE
    for state in (AccountState.ACTIVE, AccountState.DEACTIVATED, None):
        with pytest.raises(ActivationNotAllowed):
            transition(state, Activated())


RECORD = RecordIdentity("买买提·艾力", "4101**********1234", "d1")


def test_claim_matches_record__name_forms_fold_and_digest_decides() -> None:
    assert claim_matches_record(RECORD, ClaimedIdentity("买买提•艾力", "4101**********1234", "d1"))
    assert not claim_matches_record(RECORD, ClaimedIdentity("买买提·艾力", "4101**********1234", "d2"))
    assert not claim_matches_record(RECORD, ClaimedIdentity("买买提·艾力", "4101**********1234", None))
    assert not claim_matches_record(RECORD, ClaimedIdentity("张三", "4101**********1234", "d1"))


def test_claim_matches_record__without_a_digest_name_and_mask_suffice() -> None:
    record = RecordIdentity("张三", "4101**********1234", None)
    assert claim_matches_record(record, ClaimedIdentity("张三", "4101**********1234", "anything"))
    assert not claim_matches_record(record, ClaimedIdentity("张三", "4101**********9999", None))


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("13912345678", True),
        ("19912345678", True),
        ("12912345678", False),
        ("1391234567", False),
        ("１３９１２３４５６７８", False),
    ],
)
def test_is_mobile_number(phone: str, ok: bool) -> None:
    assert is_mobile_number(phone) is ok


def test_phone_is_free_for__own_or_unused() -> None:
    assert phone_is_free_for(None, "a") and phone_is_free_for("a", "a") and not phone_is_free_for("b", "a")


def test_code_may_be_tried__five_times() -> None:
    assert [code_may_be_tried(n) for n in range(7)] == [True] * 5 + [False] * 2


@given(st.text(min_size=0, max_size=30))
def test_password_weakness__short_or_equal_to_username_is_refused(password: str) -> None:
    weakness = password_weakness(password, username=password)
    assert weakness is not None
    assert all(weakness)


def test_password_weakness__a_long_varied_password_passes() -> None:
    assert password_weakness("correct-horse-9", username="u", old_password="old") is None
    assert password_weakness("old-password", username="u", old_password="old-password") is not None


def test_one_time_password__uses_the_unambiguous_alphabet() -> None:
    assert set(one_time_password()) <= set(ALPHABET)
    assert len(one_time_password(16)) == 16
    assert phone_code().isdigit() and len(phone_code()) == 6


@given(
    st.sampled_from(
        ["withdrawn", "transferred_out", "dropout", "dead", "deregistered", "left_without_completing"]
    ),
    st.dates(),
)
def test_template_delete_on__ended_records_now(status: str, on: date) -> None:
    assert template_delete_on(status, on) == on
    assert is_due(template_delete_on(status, on), on)


def test_template_delete_on__graduates_after_retention_live_records_never() -> None:
    on = date(2026, 7, 1)
    assert template_delete_on("graduated", on) == on + DEFAULT_RETENTION
    assert not is_due(template_delete_on("graduated", on), on + DEFAULT_RETENTION - timedelta(days=1))
    for status in ("in_school", "on_leave", "suspended", "suspected_dropout"):
        assert template_delete_on(status, on) is None
        assert not is_due(None, on)
