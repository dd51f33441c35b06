"""Cross-province transfers driven over HTTP the way people drive them, many at once: students
registered at their school, the destination registrar applying, each review taken in its own
province with its own account. Shared by ``make bench-transfer`` and the transfer chaos test; the
demo's one-at-a-time story with a person per step is deploy/local/transfer_steps.py.

A request is retried while a process is down or restarting (connection errors, 5xx): under
chaos a refused connection means "not yet", never "failed".
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx

from deploy.local.layout import Deployment
from deploy.local.scenario import TOKEN_REUSE_SECONDS
from deploy.local.transfer_steps import number_on_papers
from shared.idnumber import make_resident_id

RETRY_SECONDS = 120.0
# The review chain of a cross-province transfer (services/transfer/domain/cross_province_transfer.py)
# with the role that acts at each level and the side whose province decides it.
CHAIN: tuple[tuple[str, str, str], ...] = (
    ("dest_school", "school_leader", "dest"),
    ("dest_county", "county", "dest"),
    ("origin_school", "school_registrar", "origin"),
    ("origin_county", "county", "origin"),
)
_GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍"


class GaveUp(RuntimeError):
    """A request kept failing for longer than anyone would wait; the message says which."""


@dataclass(frozen=True)
class Student:
    province: str
    student_id: str
    student_number: str  # unmasked: the applying registrar copies it from the student's papers
    name: str


@dataclass
class Transfer:
    transfer_id: str
    student: Student
    origin: str
    dest: str

    def province_of(self, side: str) -> str:
        return self.origin if side == "origin" else self.dest


class Driver:
    """One HTTP client for every province of a deployment, with a token per account."""

    def __init__(
        self, deployment: Deployment, accounts: list[dict[str, str]], *, concurrency: int = 16
    ) -> None:
        self.deployment = deployment
        self.accounts = accounts
        self.client = httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=concurrency * 2))
        # Two cores serve fifteen processes: more requests in flight only lengthen every queue.
        self.gate = asyncio.Semaphore(concurrency)
        self._tokens: dict[str, tuple[float, str]] = {}  # username -> (fetched at, token)
        self._token_lock = asyncio.Lock()
        self.retried = 0

    async def close(self) -> None:
        await self.client.aclose()

    def account(self, province: str, role: str) -> dict[str, str]:
        # The first account of the role: the seed lists a province's first school, its county
        # and its city before any other, so these accounts belong together.
        for account in self.accounts:
            if account["province"] == province and account["role"] == role:
                return account
        raise KeyError(f"no {role} account in {province}")

    def org(self, province: str, role: str) -> str:
        return self.account(province, role)["organisation"]

    async def _token(self, province: str, role: str) -> str:
        account = self.account(province, role)
        async with self._token_lock:
            held = self._tokens.get(account["username"])
            if held is None or time.monotonic() - held[0] > TOKEN_REUSE_SECONDS:
                response = await self._send(
                    "POST",
                    f"{self.deployment.base_url(province, 'identity')}/api/v1/auth/token",
                    data={"username": account["username"], "password": account["password"]},
                )
                if response.status_code != 200:
                    raise GaveUp(f"no token for {account['username']}: {response.text[:300]}")
                held = (time.monotonic(), response.json()["access_token"])
                self._tokens[account["username"]] = held
            return held[1]

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        deadline = time.monotonic() + RETRY_SECONDS
        while True:
            try:
                async with self.gate:
                    response = await self.client.request(method, url, **kwargs)
                if response.status_code < 500:
                    return response
                problem = f"{response.status_code} {response.text[:200]}"
            except httpx.TransportError as exc:  # refused, reset or timed out: the process is down
                problem = repr(exc)
            if time.monotonic() > deadline:
                raise GaveUp(f"{method} {url}: still failing after {RETRY_SECONDS:.0f} s: {problem}")
            self.retried += 1
            await asyncio.sleep(0.5 + random.random())

    async def call(
        self,
        method: str,
        province: str,
        service: str,
        path: str,
        *,
        role: str,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = await self._token(province, role)
        return await self._send(
            method,
            f"{self.deployment.base_url(province, service)}{path}",
            json=json,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )

    # -- the steps ---------------------------------------------------------------------------
    async def register(self, province: str, rng: random.Random, serial: int) -> Student:
        """A student registered at the province's first school; the ID number is unique per run
        (birth date from the serial, a random sequence), so no cross-province duplicate arises."""
        county = self.org(province, "county")
        school = self.org(province, "school_registrar")
        birth = date(2008, 1, 1) + timedelta(days=serial % 1400)
        id_number = make_resident_id(county, birth, rng.randint(0, 999))
        name = "张" + rng.choice(_GIVEN_NAMES) + rng.choice(_GIVEN_NAMES)
        response = await self.call(
            "POST",
            province,
            "enrollment",
            "/api/v1/students",
            role="school_registrar",
            json={
                "name": name,
                "id_type": "resident_id",
                "id_number": id_number,
                "class_id": f"class-{school}-2024-1",
                "study_length": 3,
                "study_form": "full_time",
            },
        )
        if response.status_code != 201:
            raise GaveUp(f"registering in {province}: {response.status_code} {response.text[:300]}")
        body = response.json()
        return Student(province, body["id"], number_on_papers(body["student_number"], id_number), name)

    async def apply(self, student: Student, dest: str) -> Transfer:
        school = self.org(dest, "school_registrar")
        response = await self.call(
            "POST",
            dest,
            "transfer",
            "/api/v1/transfers",
            role="school_registrar",
            json={
                "kind": "cross_province",
                "student_number": student.student_number,
                "student_name": student.name,
                "origin_province": student.province,
                "destination_class_id": f"class-{school}-2024-1",
                "grade": 2024,
                "reason": "随父母工作调动迁居",
            },
        )
        if response.status_code == 409 and "transfer-open" in response.text:
            # A retry after the process died mid-request: the first attempt had committed.
            listed = await self.call(
                "GET",
                dest,
                "transfer",
                "/api/v1/transfers",
                role="school_registrar",
                params={"student_number": student.student_number},
            )
            items = listed.json().get("items", []) if listed.status_code == 200 else []
            if items:
                return Transfer(items[0]["id"], student, student.province, dest)
        if response.status_code != 201:
            raise GaveUp(f"applying in {dest}: {response.status_code} {response.text[:300]}")
        return Transfer(response.json()["id"], student, student.province, dest)

    async def case(self, province: str, transfer_id: str) -> dict[str, Any] | None:
        response = await self.call(
            "GET", province, "transfer", f"/api/v1/transfers/{transfer_id}", role="school_registrar"
        )
        return response.json() if response.status_code == 200 else None

    async def queue(self, province: str, role: str) -> list[dict[str, Any]]:
        response = await self.call("GET", province, "transfer", "/api/v1/transfers/queue", role=role)
        if response.status_code != 200:
            raise GaveUp(f"review queue of {role}@{province}: {response.status_code} {response.text[:300]}")
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def decide(
        self, transfer: Transfer, action: str, *, level: str | None = None, role: str | None = None
    ) -> httpx.Response:
        """``approve`` / ``reject`` at ``level`` by ``role``, or ``cancel`` by the applicant."""
        if action == "cancel":
            province, role = transfer.dest, "school_registrar"
            body: dict[str, Any] = {"opinion": "学生家庭决定不再转学"}
        else:
            side = next(s for lvl, _, s in CHAIN if lvl == level)
            province = transfer.province_of(side)
            assert role is not None
            body = {"opinion": "同意" if action == "approve" else "材料不全，不予同意"}
        return await self.call(
            "POST",
            province,
            "transfer",
            f"/api/v1/transfers/{transfer.transfer_id}/{action}",
            role=role,
            json=body,
        )


class ReviewQueues:
    """The review queues (待核办) of every reviewer, polled together: one request per office and
    round instead of one per case, so hundreds of waiting transfers cost a few requests a second."""

    def __init__(self, driver: Driver, provinces: tuple[str, ...], *, every: float = 0.5) -> None:
        self.driver = driver
        self.provinces = provinces
        self.every = every
        self.waiting: dict[tuple[str, str], dict[str, Any]] = {}  # (transfer id, level) -> item
        self.changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _poll(self) -> None:
        # The school registrar sees both school levels (either school role may review there).
        offices = [(p, role) for p in self.provinces for role in ("school_registrar", "county")]
        while True:
            seen: dict[tuple[str, str], dict[str, Any]] = {}
            for province, role in offices:
                try:
                    for item in await self.driver.queue(province, role):
                        seen[(item["id"], item["pending_level"])] = item
                except GaveUp:
                    continue  # the process stayed down past the retry window: next round
            async with self.changed:
                self.waiting = seen
                self.changed.notify_all()
            await asyncio.sleep(self.every)

    async def wait_for(self, transfer_id: str, level: str, within: float) -> dict[str, Any] | None:
        """The queue item once the case waits for ``level``; None after ``within`` seconds."""
        async with self.changed:
            try:
                await asyncio.wait_for(
                    self.changed.wait_for(lambda: (transfer_id, level) in self.waiting), within
                )
            except TimeoutError:
                return None
            return self.waiting[(transfer_id, level)]
