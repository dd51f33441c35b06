"""Three provinces run their copies of transfer cases over a network that duplicates, reorders
and delays every message, with a model of each province's enrollment holding the records.

What the real service does around the pure copy (services/transfer/handlers.py, steps.py) is
modelled here in a few lines: a province refuses to open a second copy for a student who has an
open one there (the unique index) and answers with a failed check; a message a copy cannot take
yet (or for a copy not opened yet) is parked and offered again after the copy's next change,
its opening included; enrollment checks the student is active at the origin school, releases
the record on ``MoveRecords`` and activates it when the release reaches the destination (inside
one province it moves at once).

Invariants: a student's record is active in exactly one province unless a move of theirs is in
flight; a cancelled case never moves; copies never end differently and hold the same lines; and
once the network is drained and every case finished, every copy has ended and all agree.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from random import Random

from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from services.transfer.domain.case_copy import (
    CaseCopy,
    MoveRecords,
    NotYet,
    Outcome,
    SendCancelRequest,
    SendStep,
    StepInput,
    apply_line,
    decide,
    open_case,
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
from services.transfer.tests.unit.case_builders import step, timeline_by_step
from shared.events.transfer import TimelineLine, TransferKind

L = ReviewLevel
PROVINCES = ("41", "37", "44")
# Two schools per province, in different cities: every in-province case crosses cities.
SCHOOLS = {province: (f"{province}01000001", f"{province}02000001") for province in PROVINCES}
STUDENTS = [f"s{n}" for n in range(6)]
# Which message or copy a rule takes, modulo how many there are. Not ``st.integers()``: its bias
# to 0 would deliver almost in order and act almost always on the first copy.
PICK = st.sampled_from(range(60))
COMMAND = st.sampled_from(["approve"] * 12 + ["reject", "cancel", "cancel", "expire"])
# Few cases at a time, so that each gets far within a run rather than many starting.
MAX_OPEN_CASES = 3
CROSSING = (TransferKind.CROSS_PROVINCE, TransferKind.AFTER_GRADUATION)
# The parts provinces configure, all valid; None is the kind's default.
CONFIGURED: dict[TransferKind, list[tuple[ReviewLevel, ...] | None]] = {
    TransferKind.IN_PROVINCE: [None, (L.ORIGIN_SCHOOL, L.DEST_SCHOOL, L.ORIGIN_CITY)],
    TransferKind.JOINT_PROGRAMME: [None, (L.ORIGIN_SCHOOL, L.DEST_SCHOOL)],
    TransferKind.CROSS_PROVINCE: [None, (L.DEST_SCHOOL,), (L.DEST_SCHOOL, L.DEST_CITY, L.DEST_PROVINCE)],
    TransferKind.AFTER_GRADUATION: [None, (L.DEST_SCHOOL, L.DEST_PROVINCE)],
}


# ---- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """transfer.case.opened, applicant → the origin province."""

    to: str
    transfer_id: str
    chain: tuple[ReviewLevel, ...]
    apply: TimelineLine
    check_ok: bool


@dataclass(frozen=True)
class Checked:
    """transfer.case.checked, origin → destination."""

    to: str
    transfer_id: str
    ok: bool


@dataclass(frozen=True)
class LocalCheck:
    """Enrollment's OriginChecked / DestinationChecked inside one province."""

    to: str
    transfer_id: str
    side: Side
    ok: bool


@dataclass(frozen=True)
class Step:
    to: str
    transfer_id: str
    line: TimelineLine


@dataclass(frozen=True)
class CancelRequest:
    to: str
    transfer_id: str
    line: TimelineLine


@dataclass(frozen=True)
class RecordReleased:
    """The origin's enrollment released the record; the destination's takes it in (once)."""

    to: str
    transfer_id: str
    release_id: int


Message = Opened | Checked | LocalCheck | Step | CancelRequest | RecordReleased
Parked = Step | CancelRequest


@dataclass
class Case:
    transfer_id: str
    kind: TransferKind
    student: str
    origin: str
    origin_school: str
    destination: str
    dest_school: str
    applicant: str


@dataclass
class Student:
    graduated: bool = False
    active: set[tuple[str, str]] = field(default_factory=set)  # (province, school)


class ThreeProvinces(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = count(1)
        self.ids = count(1)
        self.copies: dict[tuple[str, str], CaseCopy] = {}
        self.cases: dict[str, Case] = {}
        self.students: dict[str, Student] = {}
        self.network: list[Message] = []
        self.parked: dict[tuple[str, str], list[Parked]] = {}
        self.moves: Counter[str] = Counter()  # MoveRecords per case
        self.in_flight: dict[str, str] = {}  # student → case whose record release travels
        self.released: dict[int, tuple[str, str]] = {}  # release id → (student, destination school)
        self.taken_in: set[int] = set()  # enrollment's inbox for releases

    def now(self) -> str:
        return f"2026-11-27T10:{next(self.clock):08d}"

    # ---- setup -------------------------------------------------------------------------------

    @initialize(
        homes=st.lists(st.sampled_from(PROVINCES), min_size=len(STUDENTS), max_size=len(STUDENTS)),
        chance=st.randoms(use_true_random=False),
    )
    def enroll(self, homes: list[str], chance: Random) -> None:
        self.chance = chance  # the order the network delivers in while the run is drained
        for n, (name, home) in enumerate(zip(STUDENTS, homes, strict=True)):
            self.students[name] = Student(active={(home, SCHOOLS[home][n % 2])})

    # ---- rules -------------------------------------------------------------------------------

    @rule(student=st.sampled_from(STUDENTS))
    def graduate(self, student: str) -> None:
        self.students[student].graduated = True

    @precondition(lambda self: self.open_cases() < MAX_OPEN_CASES)
    @rule(
        student=st.sampled_from(STUDENTS),
        kind=st.sampled_from([*TransferKind, *CROSSING]),  # the two-province kinds more often
        to=st.sampled_from(PROVINCES),
        school=st.integers(0, 1),
        configured=st.integers(0, 2),
        origin_ok=st.sampled_from([True] * 9 + [False]),
        dest_ok=st.sampled_from([True] * 9 + [False]),
    )
    def open_a_case(
        self,
        student: str,
        kind: TransferKind,
        to: str,
        school: int,
        configured: int,
        origin_ok: bool,
        dest_ok: bool,
    ) -> None:
        facts = self.students[student]
        if len(facts.active) != 1:
            return  # a destination cannot look up a student whose record is on its way
        ((origin, origin_school),) = facts.active
        if (kind is TransferKind.AFTER_GRADUATION) != facts.graduated:
            return
        if kind in CROSSING:
            if to == origin:
                return
            destination, dest_school = to, SCHOOLS[to][school]
        else:
            destination = origin
            dest_school = next(s for s in SCHOOLS[origin] if s != origin_school)
        rules = KINDS[kind]
        applicant = destination if rules.applicant_side is Side.DESTINATION else origin
        if self.open_copy_for(applicant, student) is not None:
            return  # the applicant's province refuses a second open case (unique index)
        parts = CONFIGURED[kind]
        chain = chain_for(rules, parts[configured % len(parts)], crosses_cities=kind not in CROSSING)
        transfer_id = f"t{next(self.ids)}"
        self.cases[transfer_id] = Case(
            transfer_id, kind, student, origin, origin_school, destination, dest_school, applicant
        )
        apply = apply_line(chain, self.step_input(f"{transfer_id}/apply", applicant))
        self.copies[(applicant, transfer_id)] = self.new_copy(transfer_id, applicant, chain, apply)
        if kind in CROSSING:
            self.send(LocalCheck(destination, transfer_id, Side.DESTINATION, dest_ok))
            self.send(Opened(origin, transfer_id, chain, apply, origin_ok))
        else:
            self.send(LocalCheck(origin, transfer_id, Side.ORIGIN, origin_ok))
            self.send(LocalCheck(origin, transfer_id, Side.DESTINATION, dest_ok))

    @rule(picks=st.lists(PICK, min_size=1, max_size=4))
    def deliver(self, picks: list[int]) -> None:
        """A few messages arrive, in any order; the others wait."""
        for pick in picks:
            if self.network:
                self.receive(self.network.pop(pick % len(self.network)))

    @rule(pick=PICK)
    def duplicate(self, pick: int) -> None:
        if self.network:
            self.network.append(self.network[pick % len(self.network)])

    @rule(
        pick=PICK,
        commands=st.lists(COMMAND, min_size=1, max_size=3),
        who=st.sampled_from(["holder", "holder", "applicant", "anyone"]),
    )
    def act(self, pick: int, commands: list[str], who: str) -> None:
        """Someone acts on one copy, perhaps a few times in a row while the messages wait:
        mostly where the case is held (so that cases get far), or the applicant's province
        (who may cancel, 撤销, wherever the case is held), or any province."""
        open_copies = sorted(
            key
            for key, copy in self.copies.items()
            if copy.progress.is_open
            and {
                "holder": copy.holder == key[0],
                "applicant": key[0] == self.cases[key[1]].applicant,
                "anyone": True,
            }[who]
        )
        if not open_copies:
            return
        here, transfer_id = open_copies[pick % len(open_copies)]
        for command in commands:
            level = self.copies[(here, transfer_id)].progress.pending or L.DEST_SCHOOL  # not pending
            action: dict[str, Approve | Reject | Cancel | Expire] = {
                "approve": Approve(level),
                "reject": Reject(level),
                "cancel": Cancel(),
                "expire": Expire(),
            }
            self.take(here, transfer_id, action[command])

    def take(self, here: str, transfer_id: str, action: Approve | Reject | Cancel | Expire) -> bool:
        role = "system" if isinstance(action, Expire) else "school_registrar"
        taken = self.step_input(f"{transfer_id}/{next(self.ids)}", here, role)
        try:
            outcome = decide(self.copies[(here, transfer_id)], action, taken)
        except TransitionNotAllowed:  # NotHolder is one
            return False
        self.apply(here, transfer_id, outcome)
        return True

    # ---- the service around the copies -------------------------------------------------------

    def step_input(self, step_id: str, province: str, role: str = "school_registrar") -> StepInput:
        # The province's code stands for the office: the copies compare lines, not who is where.
        return step(step_id, province, opinion=role, role=role, org=province, at=self.now())

    def new_copy(
        self, transfer_id: str, here: str, chain: tuple[ReviewLevel, ...], apply: TimelineLine
    ) -> CaseCopy:
        case = self.cases[transfer_id]
        return open_case(
            transfer_id=transfer_id,
            kind=case.kind,
            here=here,
            origin_province=case.origin,
            dest_province=case.destination,
            chain=chain,
            apply_line=apply,
        )

    def open_cases(self) -> int:
        return sum(
            1 for transfer_id in self.cases if any(c.progress.is_open for c in self.copies_of(transfer_id))
        )

    def open_copy_for(self, province: str, student: str) -> str | None:
        for (here, transfer_id), copy in self.copies.items():
            if here == province and copy.progress.is_open and self.cases[transfer_id].student == student:
                return transfer_id
        return None

    def send(self, message: Message) -> None:
        self.network.append(message)

    def receive(self, message: Message) -> None:
        key = (message.to, message.transfer_id)
        case = self.cases[message.transfer_id]
        match message:
            case Opened():
                if key in self.copies:
                    return
                if self.open_copy_for(message.to, case.student) is not None:
                    self.send(Checked(case.destination, case.transfer_id, ok=False))
                    return
                self.copies[key] = self.new_copy(case.transfer_id, message.to, message.chain, message.apply)
                self.send(LocalCheck(message.to, case.transfer_id, Side.ORIGIN, message.check_ok))
                self.offer_parked(key)
            case LocalCheck(side=Side.ORIGIN):
                facts = self.students[case.student]
                ok = (
                    message.ok
                    and (case.origin, case.origin_school) in facts.active
                    and (case.kind is TransferKind.AFTER_GRADUATION) == facts.graduated
                )
                if case.origin != case.destination:
                    self.send(Checked(case.destination, case.transfer_id, ok))
                self.check(key, Side.ORIGIN, ok)
            case LocalCheck() | Checked():
                side = message.side if isinstance(message, LocalCheck) else Side.ORIGIN
                self.check(key, side, message.ok)
            case Step() | CancelRequest():
                if key not in self.copies:
                    self.parked.setdefault(key, []).append(message)
                    return
                if not self.try_receive(key, message):
                    self.parked.setdefault(key, []).append(message)
            case RecordReleased():
                if message.release_id in self.taken_in:
                    return
                self.taken_in.add(message.release_id)
                student, school = self.released[message.release_id]
                self.students[student].active.add((message.to, school))
                del self.in_flight[student]
                self.apply(*key, records_arrived(self.copies[key], self.now()))

    def check(self, key: tuple[str, str], side: Side, ok: bool) -> None:
        reasons = () if ok else ("学籍核验未通过",)
        self.apply(*key, record_check(self.copies[key], side, ok, reasons, self.now()))

    def try_receive(self, key: tuple[str, str], message: Parked) -> bool:
        receive = receive_step if isinstance(message, Step) else receive_cancel_request
        try:
            outcome = receive(self.copies[key], message.line)
        except NotYet:
            return False
        self.apply(*key, outcome)
        return True

    def offer_parked(self, key: tuple[str, str]) -> None:
        waiting = self.parked.get(key, [])
        for index, message in enumerate(waiting):
            del waiting[index]
            if self.try_receive(key, message):
                return  # ``apply`` offered the rest again after this change
            waiting.insert(index, message)

    def apply(self, here: str, transfer_id: str, outcome: Outcome) -> None:
        before = self.copies[(here, transfer_id)]
        self.copies[(here, transfer_id)] = outcome.copy
        case = self.cases[transfer_id]
        for effect in outcome.effects:
            match effect:
                case SendStep():
                    self.send(Step(effect.to, transfer_id, effect.line))
                case SendCancelRequest():
                    self.send(CancelRequest(effect.to, transfer_id, effect.line))
                case MoveRecords():
                    self.move_records(here, case)
        after = self.copies[(here, transfer_id)]
        if after.progress != before.progress or after.lines != before.lines:
            self.offer_parked((here, transfer_id))

    def move_records(self, here: str, case: Case) -> None:
        assert here == case.origin, f"{case.transfer_id}: records moved by {here}, not the origin"
        self.moves[case.transfer_id] += 1
        facts = self.students[case.student]
        assert (case.origin, case.origin_school) in facts.active, (
            f"{case.transfer_id}: {case.student} is not at {case.origin_school} to move"
        )
        facts.active.discard((case.origin, case.origin_school))
        if case.origin == case.destination:
            facts.active.add((case.destination, case.dest_school))
            key = (here, case.transfer_id)
            self.apply(*key, records_arrived(self.copies[key], self.now()))
            return
        release_id = next(self.ids)
        self.released[release_id] = (case.student, case.dest_school)
        self.in_flight[case.student] = case.transfer_id
        self.send(RecordReleased(case.destination, case.transfer_id, release_id))

    # ---- invariants --------------------------------------------------------------------------

    def copies_of(self, transfer_id: str) -> list[CaseCopy]:
        return [copy for (_, tid), copy in self.copies.items() if tid == transfer_id]

    @invariant()
    def a_record_lives_in_one_province(self) -> None:
        for name, facts in self.students.items():
            provinces = {province for province, _ in facts.active}
            expected = 0 if name in self.in_flight else 1
            assert len(facts.active) == len(provinces) == expected, (name, facts.active, self.in_flight)

    @invariant()
    def a_case_moves_at_most_once_and_never_when_cancelled(self) -> None:
        for transfer_id, moves in self.moves.items():
            assert moves <= 1, transfer_id
        for transfer_id in self.cases:
            copies = self.copies_of(transfer_id)
            if any(copy.progress.state is CaseState.CANCELLED for copy in copies):
                assert self.moves[transfer_id] == 0, f"{transfer_id} was cancelled and moved"
                assert not any(copy.records_arrived for copy in copies)
                assert transfer_id not in self.in_flight.values()

    @invariant()
    def copies_never_contradict(self) -> None:
        for transfer_id in self.cases:
            copies = self.copies_of(transfer_id)
            ended = {copy.progress.state for copy in copies if not copy.progress.is_open}
            assert len(ended) <= 1, f"{transfer_id} ended as {ended}"
            seen: dict[str, TimelineLine] = {}
            for copy in copies:
                assert len(timeline_by_step(copy)) == len(copy.lines), f"{transfer_id}: a line twice"
                for line in copy.lines:
                    assert seen.setdefault(line.step_id, line) == line, (transfer_id, line.step_id)

    def teardown(self) -> None:
        self.finish_everything()
        for transfer_id, case in self.cases.items():
            copies = self.copies_of(transfer_id)
            states = {copy.progress.state for copy in copies}
            assert len(states) == 1 and not copies[0].progress.is_open, (transfer_id, states)
            timelines = [timeline_by_step(copy) for copy in copies]
            assert all(timeline == timelines[0] for timeline in timelines), transfer_id
            (state,) = states
            event(f"{case.kind.value} ended {state.value}")
            assert (self.moves[transfer_id] == 1) == (state is CaseState.COMPLETED), (transfer_id, state)
            if state is CaseState.COMPLETED:
                assert any(line.action == "records_moved" for line in copies[0].lines), transfer_id
            assert not any(copy.cancel_requested for copy in copies), f"{transfer_id}: a request unanswered"
            answers = {
                line.step_id for line in copies[0].lines if line.action in {"cancel", "cancel_refused"}
            }
            for line in copies[0].lines:
                if line.action == "cancel_requested":
                    assert f"{line.step_id}/answer" in answers, f"{transfer_id}: {line.step_id} unanswered"
            if state is CaseState.CANCELLED:
                assert self.moves[transfer_id] == 0, f"{transfer_id} was cancelled and moved"
        self.a_record_lives_in_one_province()
        assert not self.in_flight

    def finish_everything(self) -> None:
        """Deliver everything; then each case's holder approves it or, if it cannot, lets it
        expire; until nothing changes."""
        for _ in range(500):
            while self.network:
                self.receive(self.network.pop(self.chance.randrange(len(self.network))))
            holders = [key for key, copy in sorted(self.copies.items()) if copy.holder == key[0]]
            acted = False
            for here, transfer_id in holders:
                copy = self.copies[(here, transfer_id)]
                if copy.holder != here:
                    continue  # an earlier step this round moved it on
                pending = copy.progress.pending
                approved = pending is not None and self.take(here, transfer_id, Approve(pending))
                # Neither when the records are moving: only their arrival ends the case.
                acted = approved or self.take(here, transfer_id, Expire()) or acted
            if not acted and not self.network:
                return
        raise AssertionError("the cases never settled")


ThreeProvinces.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=100,
    derandomize=True,  # the same examples in CI every run; a broken rule still fails every run
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    # Shrinking a failing run of this machine takes minutes; CI reports the example as found.
    # Locally: XUEJI_SHRINK=1 for the shortest sequence that fails.
    phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if os.environ.get("XUEJI_SHRINK") else [])],
)


def test_three_provinces_stay_in_step() -> None:
    ThreeProvinces.TestCase().runTest()
