"""Two provinces' copies of a case kept in step (domain/case_copy.py).

The cross-province case here: destination 41 applies, origin 37; chain destination school →
destination county → origin school → origin county.
"""

from __future__ import annotations

import pytest

from services.transfer.domain.case_copy import (
    CaseCopy,
    Effect,
    MoveRecords,
    NotHolder,
    NotYet,
    Outcome,
    SendCancelRequest,
    SendStep,
    StepsDiverged,
    decide,
    receive_cancel_request,
    receive_step,
    record_check,
    records_arrived,
)
from services.transfer.domain.kinds import KINDS, chain_for
from services.transfer.domain.review_levels import ReviewLevel, Side
from services.transfer.domain.transfer_process import (
    Approve,
    Cancel,
    CaseState,
    Expire,
    Reject,
    TransitionNotAllowed,
)
from services.transfer.tests.unit.case_builders import (
    DESTINATION,
    ORIGIN,
    checked,
    copies_of,
    step,
    step_ids,
    tick,
    timeline_by_step,
)
from shared.events.transfer import TimelineLine, TransferKind

L = ReviewLevel
S = CaseState


def sent(outcome: Outcome) -> TimelineLine:
    (effect,) = [e for e in outcome.effects if isinstance(e, SendStep | SendCancelRequest)]
    return effect.line


def approve(copy: CaseCopy, n: int = 0) -> Outcome:
    assert copy.progress.pending is not None
    return decide(copy, Approve(copy.progress.pending), step(f"{copy.transfer_id}/a{n}", copy.here))


def both_at_origin_school() -> tuple[CaseCopy, CaseCopy, list[TimelineLine]]:
    """Destination approved its two levels; both copies know it. Returns (dest, origin, lines)."""
    copies = copies_of()
    dest, origin = checked(copies[DESTINATION]), checked(copies[ORIGIN], destination_ok=False)
    lines = []
    for n in range(2):
        outcome = approve(dest, n)
        dest, line = outcome.copy, sent(outcome)
        origin = receive_step(origin, line).copy
        lines.append(line)
    assert dest.progress.pending is origin.progress.pending is L.ORIGIN_SCHOOL
    return dest, origin, lines


def both_at_origin_county() -> tuple[CaseCopy, CaseCopy]:
    dest, origin, _ = both_at_origin_school()
    outcome = approve(origin, 2)
    return receive_step(dest, sent(outcome)).copy, outcome.copy


def agree(*copies: CaseCopy) -> None:
    assert len({copy.progress for copy in copies}) == 1
    first = timeline_by_step(copies[0])
    assert all(timeline_by_step(copy) == first for copy in copies)
    assert all(len(copy.lines) == len(first) for copy in copies)


# ---- who decides ---------------------------------------------------------------------------------


def test_decide__only_the_holder_decides() -> None:
    copies = copies_of()
    origin = checked(copies[ORIGIN])
    with pytest.raises(NotHolder) as refused:
        decide(origin, Approve(L.DEST_SCHOOL), step("x", ORIGIN))
    assert DESTINATION in refused.value.reason and DESTINATION in refused.value.reason_zh
    with pytest.raises(NotHolder):
        decide(origin, Expire(), step("x", ORIGIN))
    with pytest.raises(NotHolder):
        decide(origin, Reject(L.DEST_SCHOOL), step("x", ORIGIN))


def test_decide__holder_steps_and_tells_the_other_copy_which_replays_it() -> None:
    dest, origin, lines = both_at_origin_school()
    assert [line.action for line in lines] == ["approve", "approve"]
    assert step_ids(dest) == step_ids(origin) == ["t1/apply", "t1/a0", "t1/a1"]
    agree(dest, origin)
    assert origin.holder == ORIGIN and dest.holder == ORIGIN


def test_decide__first_approval_waits_for_both_checks() -> None:
    dest = copies_of()[DESTINATION]
    dest = record_check(dest, Side.DESTINATION, True, (), tick()).copy
    with pytest.raises(TransitionNotAllowed) as refused:
        approve(dest)
    assert "尚未返回" in refused.value.reason_zh


def test_decide__in_one_province_sends_nothing_and_moves_the_records_itself() -> None:
    chain = chain_for(KINDS[TransferKind.IN_PROVINCE])
    (copy,) = copies_of(kind=TransferKind.IN_PROVINCE, origin="41", destination="41", chain=chain).values()
    copy = checked(copy)
    effects: list[Effect] = []
    for n in range(len(chain)):
        outcome = approve(copy, n)
        copy, effects = outcome.copy, [*effects, *outcome.effects]
    assert effects == [MoveRecords()]
    done = records_arrived(copy, tick())
    assert done.copy.progress.state is S.COMPLETED and done.effects == ()


# ---- cancel --------------------------------------------------------------------------------------


def test_cancel__at_the_holder_ends_the_case_in_both_copies() -> None:
    copies = copies_of()
    dest, origin = copies[DESTINATION], copies[ORIGIN]
    outcome = decide(dest, Cancel(), step("t1/c", DESTINATION))
    assert outcome.copy.progress.state is S.CANCELLED
    origin = receive_step(origin, sent(outcome)).copy
    agree(outcome.copy, origin)


def test_cancel__elsewhere_asks_the_holder_who_cancels() -> None:
    dest, origin, _ = both_at_origin_school()
    asked = decide(dest, Cancel(), step("t1/c", DESTINATION))
    assert asked.copy.cancel_requested and asked.copy.progress.state is S.UNDER_REVIEW
    (request,) = asked.effects
    assert isinstance(request, SendCancelRequest) and request.to == ORIGIN
    with pytest.raises(TransitionNotAllowed, match="already requested"):
        decide(asked.copy, Cancel(), step("t1/c2", DESTINATION))
    answered = receive_cancel_request(origin, request.line)
    assert answered.copy.progress.state is S.CANCELLED
    (answer,) = answered.effects
    assert isinstance(answer, SendStep) and answer.line.action == "cancel" and answer.to == DESTINATION
    dest = receive_step(asked.copy, answer.line).copy
    assert not dest.cancel_requested
    agree(dest, answered.copy)


def test_cancel_race__final_approval_first_refuses_the_cancel_and_the_records_move() -> None:
    dest, origin = both_at_origin_county()
    asked = decide(dest, Cancel(), step("t1/c", DESTINATION))
    approved = approve(origin, 3)
    assert MoveRecords() in approved.effects
    answered = receive_cancel_request(approved.copy, sent(asked))
    refusal = sent(answered)
    assert refusal.action == "cancel_refused" and "调转" in refusal.opinion
    assert answered.copy.progress.state is S.RECORDS_MOVING
    # The refusal overtakes the approval's line: the applicant learns it first, then the approval.
    dest = receive_step(asked.copy, refusal).copy
    assert not dest.cancel_requested and dest.progress.state is S.UNDER_REVIEW
    dest = receive_step(dest, sent(approved)).copy
    assert dest.progress.state is S.RECORDS_MOVING
    done = records_arrived(dest, tick())
    origin = receive_step(answered.copy, sent(done)).copy
    agree(done.copy, origin)
    assert origin.progress.state is S.COMPLETED


def test_cancel_race__cancel_first_refuses_the_final_approval_and_nothing_moves() -> None:
    dest, origin = both_at_origin_county()
    asked = decide(dest, Cancel(), step("t1/c", DESTINATION))
    answered = receive_cancel_request(origin, sent(asked))
    assert answered.copy.progress.state is S.CANCELLED
    with pytest.raises(TransitionNotAllowed):
        decide(answered.copy, Approve(L.ORIGIN_COUNTY), step("t1/a3", ORIGIN))
    assert all(not isinstance(effect, MoveRecords) for effect in answered.effects)
    dest = receive_step(asked.copy, sent(answered)).copy
    agree(dest, answered.copy)


@pytest.mark.parametrize("action", [Approve(L.DEST_SCHOOL), Reject(L.DEST_SCHOOL), Expire()], ids=repr)
def test_decide__on_an_ended_case_says_it_ended(action: Approve | Reject | Expire) -> None:
    dest = checked(copies_of()[DESTINATION])
    cancelled = decide(dest, Cancel(), step("t1/c", DESTINATION)).copy
    with pytest.raises(TransitionNotAllowed) as refused:
        decide(cancelled, action, step("t1/x", DESTINATION))
    assert not isinstance(refused.value, NotHolder)
    assert "已撤销" in refused.value.reason_zh


def test_cancel_request__arriving_before_the_holder_knows_it_holds_waits() -> None:
    dest, origin_before, lines = both_at_origin_school()
    origin = copies_of()[ORIGIN]  # has not seen the destination's approvals yet
    asked = decide(dest, Cancel(), step("t1/c", DESTINATION))
    with pytest.raises(NotYet):
        receive_cancel_request(origin, sent(asked))
    for line in lines:
        origin = receive_step(origin, line).copy
    assert receive_cancel_request(origin, sent(asked)).copy.progress.state is S.CANCELLED
    assert origin.progress == origin_before.progress


def test_cancel_request__to_an_ended_case_is_answered_with_a_refusal() -> None:
    dest, origin, _ = both_at_origin_school()
    asked = decide(dest, Cancel(), step("t1/c", DESTINATION))
    rejected = decide(origin, Reject(L.ORIGIN_SCHOOL), step("t1/r", ORIGIN))
    answered = receive_cancel_request(rejected.copy, sent(asked))
    dest = receive_step(asked.copy, sent(rejected)).copy
    assert dest.cancel_requested  # the rejection does not answer the request
    dest = receive_step(dest, sent(answered)).copy
    assert not dest.cancel_requested
    agree(dest, answered.copy)
    assert dest.progress.state is S.REJECTED


# ---- messages twice, early, out of order -------------------------------------------------------


def test_receive_step__a_line_seen_before_is_ignored() -> None:
    _, origin, lines = both_at_origin_school()
    for line in lines:
        again = receive_step(origin, line)
        assert again.copy == origin and again.effects == ()


def test_receive_cancel_request__a_request_seen_before_is_ignored() -> None:
    dest, origin, _ = both_at_origin_school()
    asked = decide(dest, Cancel(), step("t1/c", DESTINATION))
    answered = receive_cancel_request(origin, sent(asked))
    again = receive_cancel_request(answered.copy, sent(asked))
    assert again.copy == answered.copy and again.effects == ()


def test_receive_step__a_line_ahead_of_this_copy_waits() -> None:
    _, _, lines = both_at_origin_school()
    origin = copies_of()[ORIGIN]
    with pytest.raises(NotYet):
        receive_step(origin, lines[1])
    assert (
        receive_step(receive_step(origin, lines[0]).copy, lines[1]).copy.progress.pending is L.ORIGIN_SCHOOL
    )


@pytest.mark.parametrize("ending", [Cancel(), Expire()], ids=["cancel", "expire"])
def test_receive_step__an_ending_line_waits_for_the_holders_earlier_lines(ending: Cancel | Expire) -> None:
    copies = copies_of()
    dest, origin = checked(copies[DESTINATION]), copies[ORIGIN]
    approved = approve(dest)
    ended = decide(approved.copy, ending, step("t1/end", DESTINATION))
    parked = []
    try:
        origin = receive_step(origin, sent(ended)).copy  # the ending line overtook the approval
    except NotYet:
        parked.append(sent(ended))
    origin = receive_step(origin, sent(approved)).copy
    for line in parked:
        origin = receive_step(origin, line).copy
    assert not parked or origin.progress.state is not S.UNDER_REVIEW
    agree(ended.copy, origin)


def test_receive_step__a_line_contradicting_this_copy_diverges() -> None:
    _, origin, lines = both_at_origin_school()
    forged = lines[0].model_copy(update={"step_id": "t1/forged", "pending_level_after": "origin_county"})
    with pytest.raises(StepsDiverged):
        receive_step(copies_of()[ORIGIN], forged)
    cancelled = decide(origin, Cancel(), step("t1/c", ORIGIN)).copy
    late = lines[1].model_copy(update={"step_id": "t1/late"})
    with pytest.raises(StepsDiverged):
        receive_step(cancelled, late)


def test_records_arrived__before_the_approval_line_completes_when_it_comes() -> None:
    dest, origin = both_at_origin_county()
    approved = approve(origin, 3)
    early = records_arrived(dest, tick())
    assert early.copy.records_arrived and early.copy.progress.state is S.UNDER_REVIEW and early.effects == ()
    assert records_arrived(early.copy, tick()).copy == early.copy
    done = receive_step(early.copy, sent(approved))
    assert done.copy.progress.state is S.COMPLETED
    assert [line.action for line in done.copy.lines[-2:]] == ["approve", "records_moved"]
    assert all(not isinstance(effect, MoveRecords) for effect in done.effects)  # only the origin moves them
    origin = receive_step(approved.copy, sent(done)).copy
    agree(done.copy, origin)


def test_records_arrived__after_the_approval_line_completes_at_once() -> None:
    dest, origin = both_at_origin_county()
    dest = receive_step(dest, sent(approve(origin, 3))).copy
    done = records_arrived(dest, tick())
    assert done.copy.progress.state is S.COMPLETED
    assert sent(done).step_id == "t1/records-moved"


# ---- checks --------------------------------------------------------------------------------------


def test_record_check__failure_at_the_holder_rejects_before_any_approval() -> None:
    copies = copies_of()
    dest, origin = copies[DESTINATION], copies[ORIGIN]
    dest = record_check(dest, Side.DESTINATION, True, (), tick()).copy
    outcome = record_check(dest, Side.ORIGIN, False, ("学生姓名与学籍号不符",), tick())
    line = sent(outcome)
    assert outcome.copy.progress.state is S.REJECTED
    assert (line.step_id, line.action, line.actor.role) == ("t1/checks-failed", "reject", "system")
    assert "学生姓名与学籍号不符" in line.opinion
    agree(outcome.copy, receive_step(origin, line).copy)


def test_record_check__replaying_a_failure_makes_the_same_line() -> None:
    dest = copies_of()[DESTINATION]
    first = record_check(dest, Side.ORIGIN, False, ("x",), "2026-11-27T10:00:00+00:00")
    assert first == record_check(dest, Side.ORIGIN, False, ("x",), "2026-11-27T10:00:00+00:00")
    assert record_check(first.copy, Side.ORIGIN, False, ("x",), tick()).effects == ()


def test_record_check__failure_elsewhere_than_the_holder_rejects_nothing() -> None:
    origin = copies_of()[ORIGIN]
    outcome = record_check(origin, Side.ORIGIN, False, ("不是本省学生",), tick())
    assert outcome.copy.progress.state is S.UNDER_REVIEW and outcome.effects == ()
    assert outcome.copy.checks_passed is False


def test_record_check__failure_after_an_approval_rejects_nothing() -> None:
    copies = copies_of()
    dest_checked = checked(copies[DESTINATION])
    after_one = approve(dest_checked).copy
    late = record_check(after_one, Side.ORIGIN, False, ("late",), tick())
    assert late.copy.progress == after_one.progress and late.effects == ()
