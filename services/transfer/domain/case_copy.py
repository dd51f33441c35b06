"""One province's copy of a case, and how copies in two provinces stay in step.

Every province a case touches keeps a copy. The rule that keeps them agreeing: **the province
holding the case decides**. Under review, the holder is the province of the level the case waits
for; while the records move, it is the destination (it sees them arrive). Only the holder takes
a step; it appends the line to its timeline and sends it to the other copy, which replays it.

So the race between the applicant's cancel (撤销) and the final approval that starts the move is
decided in exactly one place, ``_decide_cancel`` on the holder's copy, under the row lock the
caller holds: whichever commits first wins and the other gets ``TransitionNotAllowed`` with the
reason. An applicant whose province does not hold the case sends a cancel request; the holder
answers with a ``cancel`` or a ``cancel_refused`` line.

Messages may come twice, late or out of order: a line already on the timeline is ignored, and
one the copy cannot take yet raises ``NotYet`` (the caller parks it and offers it again after the
copy's next change). Line ids a rule creates by itself derive from the case or the line that
caused them, so replaying a cause produces the same line.

Pure: no I/O. ``services/transfer/steps.py`` runs these against the database and the bus; the
stateful property test runs three provinces of them over a misbehaving network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from services.transfer.domain.review_levels import ReviewLevel, Side
from services.transfer.domain.transfer_process import (
    TERMINAL_STATES,
    Action,
    Approve,
    CaseState,
    Expire,
    Progress,
    RecordsMoved,
    Reject,
    TransitionNotAllowed,
    started,
    transition,
)
from services.transfer.domain.transfer_process import Cancel as CancelAction
from shared.events.transfer import CaseParty, EvidenceRef, TimelineLine, TransferKind

SYSTEM_ROLE = "system"


def system_actor(province: str) -> CaseParty:
    """The system of a province, for steps no person takes (a failed check, records moved)."""
    return CaseParty(username="system", role=SYSTEM_ROLE, org=province, province=province)


class NotYet(Exception):
    """The message belongs to a later state of this copy: keep it and offer it again."""


class StepsDiverged(RuntimeError):
    """A partner's line contradicts this copy: the copies disagree (an operator must look)."""


class NotHolder(TransitionNotAllowed):
    """The step is the other province's to take."""


@dataclass(frozen=True)
class CaseCopy:
    transfer_id: str
    kind: TransferKind
    here: str
    origin_province: str
    dest_province: str
    chain: tuple[ReviewLevel, ...]
    progress: Progress
    lines: tuple[TimelineLine, ...] = ()
    origin_check: bool | None = None
    destination_check: bool | None = None
    check_reasons: tuple[str, ...] = ()
    cancel_requested: bool = False
    records_arrived: bool = False

    @property
    def other(self) -> str:
        return self.origin_province if self.here == self.dest_province else self.dest_province

    @property
    def holder(self) -> str | None:
        """The province that decides the next step; None once the case has ended."""
        state = self.progress.state
        if state in TERMINAL_STATES:
            return None
        if state is CaseState.RECORDS_MOVING:
            return self.dest_province
        assert self.progress.pending is not None
        return self.province_of(self.progress.pending.side)

    def province_of(self, side: Side) -> str:
        return self.origin_province if side is Side.ORIGIN else self.dest_province

    def has_line(self, step_id: str) -> bool:
        return any(line.step_id == step_id for line in self.lines)

    @property
    def checks_passed(self) -> bool | None:
        if self.origin_check is False or self.destination_check is False:
            return False
        if self.origin_check is None or self.destination_check is None:
            return None
        return True


@dataclass(frozen=True)
class SendStep:
    to: str
    line: TimelineLine


@dataclass(frozen=True)
class SendCancelRequest:
    to: str
    line: TimelineLine


@dataclass(frozen=True)
class MoveRecords:
    """The origin's enrollment releases the record (or, in one province, moves it)."""


Effect = SendStep | SendCancelRequest | MoveRecords


@dataclass(frozen=True)
class Outcome:
    copy: CaseCopy
    effects: tuple[Effect, ...] = ()

    def then(self, more: Outcome) -> Outcome:
        return Outcome(more.copy, self.effects + more.effects)


@dataclass(frozen=True)
class StepInput:
    """Who takes a step, why, with what evidence, when; ``step_id`` names its timeline line."""

    step_id: str
    actor: CaseParty
    at: str
    opinion: str = ""
    evidence: tuple[EvidenceRef, ...] = ()


# ---- opening ---------------------------------------------------------------------------------


def open_case(
    *,
    transfer_id: str,
    kind: TransferKind,
    here: str,
    origin_province: str,
    dest_province: str,
    chain: Sequence[ReviewLevel],
    apply_line: TimelineLine,
) -> CaseCopy:
    """A new copy: the applicant's own, or the other province's from the opened case."""
    return CaseCopy(
        transfer_id=transfer_id,
        kind=kind,
        here=here,
        origin_province=origin_province,
        dest_province=dest_province,
        chain=tuple(chain),
        progress=started(chain),
        lines=(apply_line,),
    )


def apply_line(chain: Sequence[ReviewLevel], step: StepInput) -> TimelineLine:
    progress = started(chain)
    return _line(step, "apply", None, progress)


# ---- local decisions -------------------------------------------------------------------------


def decide(copy: CaseCopy, action: Approve | Reject | CancelAction | Expire, step: StepInput) -> Outcome:
    """A person (or the deadline sweeper) acts on this province's copy. Raises
    ``TransitionNotAllowed`` (``NotHolder`` when the other province decides)."""
    if isinstance(action, CancelAction):
        if copy.holder != copy.here:
            return _request_cancel(copy, step)
        return _decide_cancel(copy, step)
    if copy.holder is not None and copy.holder != copy.here:
        raise NotHolder(
            f"province {copy.holder} decides this case's next step, not {copy.here}",
            f"该转学申请当前由{copy.holder}省办理",
        )
    if isinstance(action, Approve):
        action = Approve(action.level, checks_passed=copy.checks_passed)
    return _take(copy, action, step)


def _decide_cancel(copy: CaseCopy, step: StepInput) -> Outcome:
    """The one place a cancel meets the move: the holder's transition, under its row lock."""
    return _take(copy, CancelAction(), step)


def _request_cancel(copy: CaseCopy, step: StepInput) -> Outcome:
    # Refuse at once what this copy already knows cannot be cancelled.
    transition(copy.progress, copy.chain, CancelAction())
    if copy.cancel_requested:
        raise TransitionNotAllowed("a cancellation is already requested", "撤销申请已提交，等待对方省处理")
    assert copy.holder is not None
    line = _line(step, "cancel_requested", None, copy.progress)
    requested = replace(copy, lines=(*copy.lines, line), cancel_requested=True)
    return Outcome(requested, (SendCancelRequest(copy.holder, line),))


def record_check(copy: CaseCopy, side: Side, ok: bool, reasons: Sequence[str], at: str) -> Outcome:
    """A check came back (``reasons`` include the eligibility rules' when the caller judged
    them). The holder rejects a case whose check failed, before anyone has approved."""
    checked = replace(
        copy,
        origin_check=ok if side is Side.ORIGIN else copy.origin_check,
        destination_check=ok if side is Side.DESTINATION else copy.destination_check,
        check_reasons=copy.check_reasons + tuple(reasons),
    )
    failed = checked.checks_passed is False
    if not failed or checked.holder != checked.here or checked.progress != started(checked.chain):
        return Outcome(checked)
    step = StepInput(
        step_id=f"{copy.transfer_id}/checks-failed",
        actor=system_actor(copy.here),
        at=at,
        opinion="；".join(checked.check_reasons) or "学籍核验未通过",
    )
    return _take(checked, Reject(), step)


def records_arrived(copy: CaseCopy, at: str) -> Outcome:
    """Destination: enrollment holds the record now. Completes the case, or waits for the
    approval that started the move if its line has not reached this copy yet."""
    if copy.progress.state in TERMINAL_STATES or copy.records_arrived:
        return Outcome(copy)
    arrived = replace(copy, records_arrived=True)
    if arrived.progress.state is CaseState.RECORDS_MOVING:
        return _complete(arrived, at)
    return Outcome(arrived)


def _complete(copy: CaseCopy, at: str) -> Outcome:
    step = StepInput(
        step_id=f"{copy.transfer_id}/records-moved", actor=system_actor(copy.here), at=at, opinion="调档完毕"
    )
    return _take(copy, RecordsMoved(), step)


# ---- messages from the other province ---------------------------------------------------------


def receive_step(copy: CaseCopy, line: TimelineLine) -> Outcome:
    """Replay a line the other province took. Raises ``NotYet`` or ``StepsDiverged``."""
    if copy.has_line(line.step_id):
        return Outcome(copy)
    if line.action == "cancel_refused":
        return Outcome(replace(copy, lines=(*copy.lines, line), cancel_requested=False))
    action = _replayed(line)
    ended_further_on = line.action in _ENDINGS and line.level is not None and copy.progress.is_open
    if ended_further_on and _pending_value(copy.progress) != line.level:
        # The holder ended the case at a later level: replay its earlier lines first.
        raise NotYet(f"the case ended at {line.level}; this copy waits for {_pending_value(copy.progress)}")
    try:
        progress = transition(copy.progress, copy.chain, action)
    except TransitionNotAllowed as refusal:
        if copy.progress.state in TERMINAL_STATES:
            raise StepsDiverged(
                f"transfer {copy.transfer_id}: line {line.action} from {line.actor.province} "
                f"but this copy is {copy.progress.state.value}"
            ) from refusal
        raise NotYet(refusal.reason) from refusal
    if progress.state.value != line.state_after or _pending_value(progress) != line.pending_level_after:
        raise StepsDiverged(
            f"transfer {copy.transfer_id}: the partner reached "
            f"{line.state_after}/{line.pending_level_after}, "
            f"this copy {progress.state.value}/{_pending_value(progress)}"
        )
    moved = replace(
        copy,
        progress=progress,
        lines=(*copy.lines, line),
        cancel_requested=copy.cancel_requested and action.name != "cancel",
    )
    return _settle(copy, moved, ())


def receive_cancel_request(copy: CaseCopy, line: TimelineLine) -> Outcome:
    """The holder answers the applicant's request: cancelled, or refused with the reason."""
    if copy.has_line(line.step_id):
        return Outcome(copy)
    if copy.progress.state is CaseState.UNDER_REVIEW and copy.holder != copy.here:
        raise NotYet("the case is not held here yet")
    requested = replace(copy, lines=(*copy.lines, line))
    answer = StepInput(step_id=f"{line.step_id}/answer", actor=line.actor, at=line.at, opinion=line.opinion)
    try:
        return _decide_cancel(requested, answer)
    except TransitionNotAllowed as refusal:
        refused = StepInput(
            step_id=answer.step_id, actor=system_actor(copy.here), at=line.at, opinion=refusal.reason_zh
        )
        refusal_line = _line(refused, "cancel_refused", None, requested.progress)
        return Outcome(
            replace(requested, lines=(*requested.lines, refusal_line)), (SendStep(copy.other, refusal_line),)
        )


# ---- the common path -------------------------------------------------------------------------


def _take(copy: CaseCopy, action: Action, step: StepInput) -> Outcome:
    progress = transition(copy.progress, copy.chain, action)
    level = getattr(action, "level", None)
    if action.name in _ENDINGS:
        # The level the case waited for when it ended, so that a copy replaying the line can
        # tell whether it has caught up (a cancel or expiry is legal at every level).
        level = copy.progress.pending
    line = _line(step, action.name, level, progress)
    moved = replace(
        copy,
        progress=progress,
        lines=(*copy.lines, line),
        cancel_requested=copy.cancel_requested and action.name != "cancel",
    )
    effects: tuple[Effect, ...] = (SendStep(copy.other, line),) if copy.other != copy.here else ()
    return _settle(copy, moved, effects)


def _settle(before: CaseCopy, after: CaseCopy, effects: tuple[Effect, ...]) -> Outcome:
    """What entering a new state sets off here: the origin moves the records; the destination
    completes a case whose records arrived before the approval's line did."""
    outcome = Outcome(after, effects)
    entered_moving = (
        after.progress.state is CaseState.RECORDS_MOVING
        and before.progress.state is not CaseState.RECORDS_MOVING
    )
    if not entered_moving:
        return outcome
    if after.here == after.origin_province:
        outcome = Outcome(after, (*effects, MoveRecords()))
    if after.here == after.dest_province and after.records_arrived:
        return outcome.then(_complete(after, after.lines[-1].at))
    return outcome


_ENDINGS = frozenset({"cancel", "expire"})


def _replayed(line: TimelineLine) -> Action:
    level = ReviewLevel(line.level) if line.level is not None else None
    match line.action:
        case "approve" if level is not None:
            return Approve(level, checks_passed=True)  # the holder checked them when it approved
        case "reject":
            return Reject(level)
        case "cancel":
            return CancelAction()
        case "expire":
            return Expire()
        case "records_moved":
            return RecordsMoved()
    raise StepsDiverged(f"unknown line {line.action!r} at level {line.level!r}")


def _pending_value(progress: Progress) -> str | None:
    return progress.pending.value if progress.pending is not None else None


def _line(step: StepInput, action: str, level: ReviewLevel | None, after: Progress) -> TimelineLine:
    return TimelineLine(
        step_id=step.step_id,
        action=action,
        level=level.value if level is not None else None,
        state_after=after.state.value,
        pending_level_after=_pending_value(after),
        actor=step.actor,
        opinion=step.opinion,
        evidence=list(step.evidence),
        at=step.at,
    )
