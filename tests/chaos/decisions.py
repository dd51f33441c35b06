"""One transfer driven to its end by people deciding at random: at each level the reviewer mostly
approves, sometimes rejects, and sometimes the applicant cancels instead. What was decided is
kept, so the reconciliation knows how each case must have ended.

Under chaos an answer can be lost (the process was killed after committing, before replying);
the retry then meets a case that already moved, and the case itself says whether our step took.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from deploy.local.transfer_driver import CHAIN, Driver, ReviewQueues, Student, Transfer
from services.transfer.domain.transfer_process import TERMINAL_STATES as TERMINAL

WAIT_FOR_LEVEL_SECONDS = 240.0
APPROVE, REJECT, CANCEL = "approve", "reject", "cancel"
_ENDS = {APPROVE: "COMPLETED", REJECT: "REJECTED", CANCEL: "CANCELLED"}


@dataclass
class Driven:
    transfer: Transfer
    decisions: list[tuple[str, str]] = field(default_factory=list)  # (level, action)
    stuck: str | None = None  # why the driver stopped before deciding everything

    @property
    def expected_state(self) -> str:
        last = self.decisions[-1][1] if self.decisions else None
        return _ENDS[last] if last else "UNDER_REVIEW"


def choose(rng: random.Random) -> str:
    roll = rng.random()
    return APPROVE if roll < 0.86 else REJECT if roll < 0.93 else CANCEL


async def _step_took(driver: Driver, transfer: Transfer, level: str, action: str) -> bool:
    """After a refusal: did an earlier attempt of the same step already commit?"""
    side = next(s for lvl, _, s in CHAIN if lvl == level)
    case: dict[str, Any] | None = await driver.case(transfer.province_of(side), transfer.transfer_id)
    if case is None:
        return False
    if action == APPROVE:
        passed = [lvl for lvl, _, _ in CHAIN].index(level)
        pending = case["pending_level"]
        moved_on = case["state"] != "UNDER_REVIEW" or (
            pending is not None and [lvl for lvl, _, _ in CHAIN].index(pending) > passed
        )
        return bool(moved_on and case["state"] not in ("REJECTED", "CANCELLED"))
    return bool(case["state"] == _ENDS[action] or (action == CANCEL and case["cancel_requested"]))


async def drive(
    driver: Driver, queues: ReviewQueues, student: Student, dest: str, rng: random.Random
) -> Driven:
    driven = Driven(await driver.apply(student, dest))
    transfer = driven.transfer
    for level, role, _side in CHAIN:
        action = choose(rng)
        while True:
            item = await queues.wait_for(transfer.transfer_id, level, WAIT_FOR_LEVEL_SECONDS)
            if item is None:
                case = await driver.case(transfer.dest, transfer.transfer_id)
                driven.stuck = f"never waited for {level}; the destination's copy: {case and case['state']}"
                return driven
            if action == CANCEL:
                response = await driver.decide(transfer, CANCEL)
            else:
                response = await driver.decide(transfer, action, level=level, role=role)
            if response.status_code in (200, 202):
                break
            if response.status_code == 409 and await _step_took(driver, transfer, level, action):
                break
            if response.status_code not in (409, 404):
                driven.stuck = f"{action} at {level}: {response.status_code} {response.text[:300]}"
                return driven
            # 409 before both checks are back, or a queue answer older than the case: look again.
            await asyncio.sleep(0.5 + rng.random())
        driven.decisions.append((level, action))
        if action != APPROVE:
            return driven
    return driven


def ended(state: str | None) -> bool:
    return state in TERMINAL
