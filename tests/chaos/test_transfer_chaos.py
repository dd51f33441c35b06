"""Issue 7, on the real servers: 200 cross-province transfers among three provinces, decided at
random, while the transfer and enrollment processes of either side are killed with ``kill -9``,
the broker restarts once and a shovel is deleted and re-created. Once the queues drain, every
student is active in exactly one province and every case has ended, the same way in both copies.

XUEJI_CHAOS_TRANSFERS sets the number of transfers (200).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter

import pytest

from deploy.local.databases import open_databases
from deploy.local.layout import Deployment
from deploy.local.shovels import shovel_states
from deploy.local.three_provinces import PROVINCES, three_provinces
from deploy.local.transfer_driver import Driver, ReviewQueues, Student
from tests.chaos.decisions import Driven, drive, ended
from tests.chaos.faults import (
    dead_letters,
    delete_and_recreate_shovel,
    kill_and_restart,
    queue_depths,
    restart_broker,
    wait_all_ready,
)
from tests.chaos.reconcile import Reconciliation, reconcile

pytestmark = [pytest.mark.e2e, pytest.mark.chaos]

TRANSFERS = int(os.environ.get("XUEJI_CHAOS_TRANSFERS", "200"))
DRAIN_SECONDS = 180.0


def _chaos(deployment: Deployment, rng: random.Random, log: list[str]) -> None:
    """The faults, one after another, while the transfers run (blocking: run in a thread)."""

    def kill(service: str) -> None:
        province = rng.choice(PROVINCES)
        down = rng.uniform(1, 4)
        kill_and_restart(deployment, province, service, down_seconds=down)
        log.append(f"kill -9 {service}-{province}, started again after {down:.0f} s")

    time.sleep(4)
    kill("transfer")
    time.sleep(rng.uniform(3, 6))
    kill("enrollment")
    province = rng.choice(PROVINCES)
    partner = rng.choice([p for p in PROVINCES if p != province])
    healed = delete_and_recreate_shovel(deployment, province, partner, gone_seconds=6)
    log.append(
        f"shovel {province}->{partner} deleted for 6 s, re-created: {healed[f'{province}->{partner}']}"
    )
    time.sleep(rng.uniform(2, 5))
    started = time.monotonic()
    restart_broker()
    log.append(f"broker restarted ({time.monotonic() - started:.0f} s)")
    time.sleep(rng.uniform(3, 6))
    kill("transfer")
    time.sleep(rng.uniform(3, 6))
    kill("enrollment")
    time.sleep(rng.uniform(2, 5))
    kill("transfer")
    wait_all_ready(deployment)
    log.append("every process ready again")


async def _register(driver: Driver, rng: random.Random) -> list[tuple[Student, str]]:
    """One student per transfer, origins spread evenly, each going to a random other province."""
    origins = [PROVINCES[i % len(PROVINCES)] for i in range(TRANSFERS)]
    students = await asyncio.gather(*(driver.register(p, rng, i) for i, p in enumerate(origins)))
    return [(s, rng.choice([p for p in PROVINCES if p != s.province])) for s in students]


async def _run(
    deployment: Deployment, accounts: list[dict[str, str]], rng: random.Random, log: list[str]
) -> list[Driven]:
    driver = Driver(deployment, accounts)
    queues = ReviewQueues(driver, PROVINCES, every=1.0)
    try:
        pairs = await _register(driver, rng)
        # Each task and the chaos thread draw from their own generator, seeded here in order,
        # so a seed replays the same decisions and faults whatever the interleaving.
        deciders = [random.Random(rng.random()) for _ in pairs]
        queues.start()
        chaos = asyncio.create_task(asyncio.to_thread(_chaos, deployment, random.Random(rng.random()), log))
        runs = await asyncio.gather(
            *(
                drive(driver, queues, s, dest, decider)
                for (s, dest), decider in zip(pairs, deciders, strict=True)
            )
        )
        await chaos
        log.append(f"requests retried while processes were down: {driver.retried}")
        return list(runs)
    finally:
        await queues.stop()
        await driver.close()


async def _settled(deployment: Deployment, runs: list[Driven]) -> bool:
    async with open_databases(deployment, ("transfer",)) as databases:
        ids = [r.transfer.transfer_id for r in runs]
        for province in deployment.provinces:
            states = await databases.case_states(province, ids)
            mine = [r for r in runs if province in (r.transfer.origin, r.transfer.dest) and not r.stuck]
            if not all(ended(states.get(r.transfer.transfer_id)) for r in mine):
                return False
    return True


def _wait_drained(deployment: Deployment, runs: list[Driven]) -> dict[str, dict[str, int]]:
    """Until every case has ended in both copies and no queue but the dead-letter ones holds a
    message; returns the last depths seen (the assertion shows them if the wait ran out)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        depths = queue_depths(deployment)
        busy = {
            f"{v}/{q}": n for v, qs in depths.items() for q, n in qs.items() if n and not q.endswith(".dlq")
        }
        if not busy and asyncio.run(_settled(deployment, runs)):
            return depths
        if time.monotonic() > deadline:
            return depths
        time.sleep(2)


async def _reconcile(deployment: Deployment, runs: list[Driven]) -> Reconciliation:
    async with open_databases(deployment, ("enrollment", "transfer")) as databases:
        return await reconcile(databases, deployment.provinces, runs)


async def _where_events_wait(deployment: Deployment) -> list[str]:
    """When cases did not end: what each province still holds unpublished, its shovels' states
    and the warnings its transfer process logged (the deployment and its logs go with the test)."""
    lines: list[str] = []
    async with open_databases(deployment, ("enrollment", "transfer")) as databases:
        for province in deployment.provinces:
            for service in ("enrollment", "transfer"):
                waiting, oldest = await databases.outbox_backlog(province, service)
                age = "" if oldest is None else f", the oldest {oldest:.0f} s old"
                lines.append(f"{service}-{province}: {waiting} events unpublished{age}")
            lines.append(
                f"transfer-{province}: {await databases.parked_lines(province)} partner lines parked"
            )
    for province in deployment.provinces:
        lines.append(f"shovels of {province}: {shovel_states(deployment.vhost(province))}")
        log_file = deployment.home / "log" / f"transfer-{province}.log"
        if log_file.exists():
            noted = [
                line[:400]
                for line in log_file.read_text(errors="replace").splitlines()
                if any(word in line for word in ("WARNING", "ERROR", "Traceback", "Error"))
            ]
            lines.append(f"transfer-{province} logged {len(noted)} warnings and errors; the last:")
            lines.extend(f"  {line}" for line in noted[-12:])
    return lines


def test_transfers_under_chaos__every_student_in_one_province_every_case_ended() -> None:
    seed = int(os.environ.get("XUEJI_CHAOS_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    log: list[str] = [f"seed {seed} (XUEJI_CHAOS_SEED replays the decisions and faults)"]
    began = time.monotonic()
    with three_provinces("chaos") as (deployment, accounts):
        log.append(f"three provinces up in {time.monotonic() - began:.0f} s")
        started = time.monotonic()
        runs = asyncio.run(_run(deployment, accounts, rng, log))
        log.append(
            f"{len(runs)} students registered and transfers driven in {time.monotonic() - started:.0f} s"
        )
        depths = _wait_drained(deployment, runs)
        log.append(f"drained {time.monotonic() - started:.0f} s after the start")
        result = asyncio.run(_reconcile(deployment, runs))
        dead = dead_letters(deployment)
        if result.problems:
            log.extend(asyncio.run(_where_events_wait(deployment)))
        decided = Counter(action for run in runs for _, action in run.decisions)
        print("\n".join([*log, f"decisions: {dict(decided)}", result.summary()]), flush=True)
    print(f"removed; {time.monotonic() - began:.0f} s in all")

    busy = {f"{v}/{q}": n for v, qs in depths.items() for q, n in qs.items() if n and not q.endswith(".dlq")}
    assert not busy, f"queues still holding messages {DRAIN_SECONDS:.0f} s after the transfers: {busy}"
    assert not dead, f"dead letters: {dead}"
    assert not result.problems, f"{len(result.problems)} problems:\n" + "\n".join(result.problems[:40])
    assert result.counts["students active in 1 province(s)"] == TRANSFERS
    assert sum(n for k, n in result.counts.items() if k.startswith("ended ")) == TRANSFERS
