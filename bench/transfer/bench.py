"""``make bench-transfer``: the machine part of a cross-province transfer at volume.

Three provinces' stacks on this machine; N students registered (origins spread evenly over the
provinces), N cross-province applications, each approved by the destination school, the
destination county and the origin school. Then the last approval (the origin county's) of every
case is sent, as fast as the client's concurrency allows, and per transfer the time from that
approval's HTTP response is measured to

  (a) record live: the destination enrollment's ``student`` row for the student is ``in_school``
      (what ``GET /api/v1/students/{id}`` at the destination answers);
  (b) all updated: (a), both transfer copies ``COMPLETED``, the destination's checkin and
      certificates read models (``student_view``) show the student ``in_school`` and the origin's
      show ``transferred_out``.

Observed by polling the databases, one query per database for every pending case together,
every ``--poll`` seconds: polling through the APIs case by case would load the very services
measured. The printed resolution is the mean time one polling round actually took.

In the same run, the floor: one signed event published to the origin's outgoing exchange,
shovelled to the partner, consumed and verified there (bench/transfer/floor.py), one at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import cpu_seconds, p50_p99, percentile
from bench.transfer.floor import floor_round_trips
from deploy.local.databases import Databases, open_databases
from deploy.local.layout import SERVICES, Deployment
from deploy.local.stack import running_pid
from deploy.local.three_provinces import PROVINCES, three_provinces
from deploy.local.transfer_driver import CHAIN, Driver, GaveUp, ReviewQueues, Transfer


@dataclass
class Timings:
    approved: dict[str, float] = field(default_factory=dict)  # transfer id -> response received
    live: dict[str, float] = field(default_factory=dict)  # (a)
    updated: dict[str, float] = field(default_factory=dict)  # (b)
    sides: dict[tuple[str, str], float] = field(default_factory=dict)  # (transfer id, province) done
    rounds: int = 0
    observing_seconds: float = 0.0


def _say(line: str) -> None:
    print(line, flush=True)


async def _approve_when_waiting(
    driver: Driver, queues: ReviewQueues, transfer: Transfer, level: str, role: str
) -> None:
    while True:
        if await queues.wait_for(transfer.transfer_id, level, 600) is None:
            raise GaveUp(f"{transfer.transfer_id} never waited for {level}")
        response = await driver.decide(transfer, "approve", level=level, role=role)
        if response.status_code == 200:
            return
        if response.status_code != 409:  # 409: the checks are not back yet
            raise GaveUp(
                f"approving {transfer.transfer_id} at {level}: {response.status_code} {response.text[:300]}"
            )
        await asyncio.sleep(0.3)


async def _prepare(driver: Driver, count: int, rng: random.Random) -> list[Transfer]:
    started = time.perf_counter()
    origins = [PROVINCES[i % len(PROVINCES)] for i in range(count)]
    students = await asyncio.gather(*(driver.register(p, rng, i) for i, p in enumerate(origins)))
    _say(f"registered {count} students in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    transfers = await asyncio.gather(
        *(driver.apply(s, rng.choice([p for p in PROVINCES if p != s.province])) for s in students)
    )
    _say(f"applied for {count} transfers in {time.perf_counter() - started:.0f} s")
    queues = ReviewQueues(driver, PROVINCES, every=1.0)
    queues.start()
    try:
        # Level by level: a registrar's queue lists both school levels, and a queue answers at
        # most 500 cases.
        for level, role, _side in CHAIN[:-1]:
            started = time.perf_counter()
            await asyncio.gather(*(_approve_when_waiting(driver, queues, t, level, role) for t in transfers))
            _say(f"approved at {level} in {time.perf_counter() - started:.0f} s")
    finally:
        await queues.stop()
    return list(transfers)


async def _observe(
    databases: Databases, transfers: list[Transfer], timings: Timings, every: float, done: asyncio.Event
) -> None:
    by_id = {t.transfer_id: t for t in transfers}
    observing_since = time.perf_counter()
    while len(timings.updated) < len(transfers):
        round_started = time.perf_counter()
        pending = [t for tid, t in by_id.items() if tid in timings.approved and tid not in timings.updated]
        for province in PROVINCES:
            incoming = [t for t in pending if t.dest == province]
            outgoing = [t for t in pending if t.origin == province]
            mine = incoming + outgoing
            if not mine:
                continue
            live = await databases.student_statuses(province, [t.student.student_id for t in incoming])
            completed = await databases.case_states(province, [t.transfer_id for t in mine])
            views = {
                service: await databases.view_statuses(
                    province, service, [t.student.student_id for t in mine]
                )
                for service in ("checkin", "certificates")
            }
            now = time.perf_counter()
            for t in incoming:
                if live.get(t.student.student_id) == "in_school":
                    timings.live.setdefault(t.transfer_id, now)
            for t in mine:
                wanted = "in_school" if t.dest == province else "transferred_out"
                side_done = completed.get(t.transfer_id) == "COMPLETED" and all(
                    v.get(t.student.student_id) == wanted for v in views.values()
                )
                if side_done:
                    timings.sides.setdefault((t.transfer_id, province), now)
        for t in pending:
            sides = ((t.transfer_id, t.dest), (t.transfer_id, t.origin))
            if t.transfer_id in timings.live and all(s in timings.sides for s in sides):
                timings.updated[t.transfer_id] = max(
                    timings.live[t.transfer_id], *(timings.sides[s] for s in sides)
                )
        timings.rounds += 1
        timings.observing_seconds = time.perf_counter() - observing_since
        await asyncio.sleep(max(0.0, every - (time.perf_counter() - round_started)))
    done.set()


async def _measure(
    deployment: Deployment,
    driver: Driver,
    transfers: list[Transfer],
    every: float,
    within: float,
    rate: float,
) -> Timings:
    timings = Timings()
    done = asyncio.Event()
    level, role, _side = CHAIN[-1]

    async def last_approval(transfer: Transfer) -> None:
        response = await driver.decide(transfer, "approve", level=level, role=role)
        if response.status_code != 200:
            raise GaveUp(
                f"last approval of {transfer.transfer_id}: {response.status_code} {response.text[:300]}"
            )
        timings.approved[transfer.transfer_id] = time.perf_counter()

    async with open_databases(deployment) as databases:
        observer = asyncio.create_task(_observe(databases, transfers, timings, every, done))
        started = time.perf_counter()
        if rate > 0:  # offered at a steady rate: latency under a load the stacks can carry
            sent = []
            for index, transfer in enumerate(transfers):
                await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
                sent.append(asyncio.create_task(last_approval(transfer)))
            await asyncio.gather(*sent)
        else:  # all at once, as fast as the client's concurrency allows: capacity
            await asyncio.gather(*(last_approval(t) for t in transfers))
        try:
            await asyncio.wait_for(done.wait(), within)
        except TimeoutError:
            _say(
                f"!! {len(transfers) - len(timings.updated)} transfers not fully updated "
                f"{within:.0f} s after the last approvals"
            )
            observer.cancel()
    return timings


def _cpu(deployment: Deployment) -> dict[str, float]:
    """CPU seconds used so far by each service process of the deployment."""
    used = {}
    for province in deployment.provinces:
        for service in SERVICES:
            pid = running_pid(deployment, province, service)
            if pid is not None:
                used[f"{service}-{province}"] = cpu_seconds(pid)
    return used


def _report_cpu(before: dict[str, float], after: dict[str, float], count: int, seconds: float) -> None:
    """Where the CPU went while the last approvals were processed: the profile hint."""
    by_service: dict[str, float] = {}
    for name, spent in after.items():
        service = name.rsplit("-", 1)[0]
        by_service[service] = by_service.get(service, 0.0) + spent - before.get(name, 0.0)
    total = sum(by_service.values())
    _say(
        f"service CPU while measuring: {total:.1f} s in {seconds:.1f} s on {os.cpu_count()} cores "
        f"({total / max(seconds, 1e-9) * 100:.0f}% of one core), "
        f"{total / max(count, 1) * 1000:.0f} ms per transfer:"
    )
    for service, spent in sorted(by_service.items(), key=lambda item: -item[1]):
        _say(f"  {service:<13} {spent / max(count, 1) * 1000:6.1f} ms per transfer")


def _report(
    transfers: list[Transfer], timings: Timings, floor: list[float], started: float, rate: float
) -> None:
    live = [timings.live[t] - timings.approved[t] for t in timings.live]
    updated = [timings.updated[t] - timings.approved[t] for t in timings.updated]
    resolution = timings.observing_seconds / max(1, timings.rounds)
    _say("")
    _say(
        f"machine part over {len(transfers)} cross-province transfers among {', '.join(PROVINCES)} "
        f"(from the last approval's response; a polling round every {resolution * 1000:.0f} ms on average):"
    )
    offered = f"at {rate:g}/s" if rate > 0 else "all at once (client concurrency limits)"
    _say(f"  last approvals sent {offered}")
    _say(f"  (a) record live at the destination   {p50_p99(live)}   ({len(live)} seen)")
    _say(f"  (b) + both copies and read models    {p50_p99(updated)}   ({len(updated)} seen)")
    if timings.updated:
        span = max(timings.updated.values()) - min(timings.approved.values())
        _say(
            f"  throughput: {len(updated) / span:.1f} transfers/s completed "
            f"({len(updated)} in {span:.1f} s from the first last approval answered)"
        )
    _say(
        f"floor: one signed event publish → shovel → consume+verify  {p50_p99(floor)}   ({len(floor)} trips)"
    )
    if updated and floor:
        ratio = percentile(updated, 0.5) / percentile(floor, 0.5)
        _say(f"machine part (b) p50 / floor p50 = {ratio:.0f}×")
    goal50 = updated and percentile(updated, 0.5) < 0.5
    goal99 = updated and percentile(updated, 0.99) < 2.0
    _say(f"goals: p50 < 500 ms {'met' if goal50 else 'MISSED'}, p99 < 2 s {'met' if goal99 else 'MISSED'}")
    _say(f"whole run {time.perf_counter() - started:.0f} s")


async def _run(deployment: Deployment, accounts: list[dict[str, str]], args: argparse.Namespace) -> None:
    started = time.perf_counter()
    rng = random.Random(args.seed)
    driver = Driver(deployment, accounts, concurrency=args.concurrency)
    try:
        transfers = await _prepare(driver, args.transfers, rng)
        cpu_before, measuring = _cpu(deployment), time.perf_counter()
        timings = await _measure(deployment, driver, transfers, args.poll, args.timeout, args.rate)
        cpu_after, measured = _cpu(deployment), time.perf_counter() - measuring
    finally:
        await driver.close()
    floor = await floor_round_trips(deployment, args.floor)
    _report(transfers, timings, floor, started, args.rate)
    _report_cpu(cpu_before, cpu_after, len(timings.updated), measured)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16, help="HTTP requests in flight")
    parser.add_argument("--poll", type=float, default=0.05, help="seconds between polling rounds")
    parser.add_argument("--floor", type=int, default=300, help="floor trips")
    parser.add_argument(
        "--rate", type=float, default=0.0, help="last approvals per second (0: all at once, for capacity)"
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    began = time.perf_counter()
    with three_provinces("bench", root=Path("var/bench")) as (deployment, accounts):
        _say(f"three provinces up in {time.perf_counter() - began:.0f} s ({deployment.name})")
        asyncio.run(_run(deployment, accounts, args))
