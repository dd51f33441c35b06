"""After the chaos: what every province's databases say about every transfer and student, and
each way it differs from what the people decided. Read straight from the databases, so nothing
the services might cache or hide stands between the count and the rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from deploy.local.databases import Databases
from tests.chaos.decisions import Driven, ended


@dataclass
class Reconciliation:
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return ", ".join(f"{key} {value}" for key, value in sorted(self.counts.items()))


async def reconcile(databases: Databases, provinces: tuple[str, ...], runs: list[Driven]) -> Reconciliation:
    result = Reconciliation()
    ids = [run.transfer.transfer_id for run in runs]
    students = [run.transfer.student.student_id for run in runs]
    states = {p: await databases.case_states(p, ids) for p in provinces}
    timelines = {p: await databases.timelines(p, ids) for p in provinces}
    active = {p: await databases.active_students(p, students) for p in provinces}
    for run in runs:
        transfer = run.transfer
        tid = transfer.transfer_id
        result.counts["transfers"] += 1
        if run.stuck:
            result.problems.append(f"{tid}: the driver stopped: {run.stuck}")
        copies = {p: states[p].get(tid) for p in (transfer.dest, transfer.origin)}
        for province, state in copies.items():
            if not ended(state):
                result.problems.append(f"{tid}: not ended in {province} ({state})")
        if len(set(copies.values())) > 1:
            result.problems.append(f"{tid}: the copies disagree on the state: {copies}")
        lines = {p: timelines[p].get(tid, []) for p in copies}
        if set(lines[transfer.dest]) != set(lines[transfer.origin]):
            result.problems.append(f"{tid}: the timelines differ by step_id: {lines}")
        elif lines[transfer.dest] != lines[transfer.origin]:
            # Each copy numbers lines as it takes them: an applicant's cancel request crossing
            # the holder's own step lands in the two copies in opposite orders. Same lines, so
            # counted and shown, not failed.
            result.counts["timelines with the same lines in another order"] += 1
        bystander = [p for p in provinces if p not in copies and tid in states[p]]
        if bystander:
            result.problems.append(f"{tid}: a copy in {bystander}, which the case does not touch")
        final = copies[transfer.dest]
        result.counts[f"ended {final}"] += 1
        if not run.stuck and final != run.expected_state:
            result.problems.append(f"{tid}: ended {final}, yet the people decided {run.decisions}")
        holders = [p for p in provinces if transfer.student.student_id in active[p]]
        result.counts[f"students active in {len(holders)} province(s)"] += 1
        where = transfer.dest if final == "COMPLETED" else transfer.origin
        if holders != [where]:
            result.problems.append(
                f"{tid} ({final}): student {transfer.student.student_id} active in {holders}, "
                f"expected [{where}]"
            )
    return result
