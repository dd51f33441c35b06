"""The population registry is called outside the transaction that holds the row locks
(identity_recheck.with_identity_checks): while a slow registry answers for a key-data change's
new ID, the student's row and the review item can be updated by others; the change is then
applied once, with the verdict, and re-checked under its locks."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select, text

from services.enrollment.identity_check import HttpPopulationRegistry
from services.enrollment.models import Student, StudentHistory
from services.enrollment.tests.integration.conftest import Province
from services.enrollment.tests.integration.test_identity_check import _use
from services.enrollment.tests.integration.test_workflow_api import _decide, _evidence
from shared.auth import Role


class SlowRegistry:
    """A real HTTP population registry on a local port that holds each answer until released."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                json.loads(self.rfile.read(length))
                outer.calls += 1
                outer.asked.set()
                outer.release.wait(timeout=30)
                body = json.dumps({"result": "match"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Log nothing: a request line per call would only clutter the test output."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/check"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowRegistry:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow_registry() -> Iterator[SlowRegistry]:
    with SlowRegistry() as registry:
        yield registry


async def _update_under_lock_timeout(p: Province, statement: str, **params: str) -> None:
    """An update that gives up after 2 s if someone holds the row (it would raise)."""
    async with p.ctx.sessionmaker() as session:
        await session.execute(text("SET LOCAL lock_timeout = '2s'"))
        await session.execute(text(statement), params)
        await session.commit()


async def test_slow_registry__rows_stay_free_while_it_answers_and_the_change_applies_once(
    p37: Province, slow_registry: SlowRegistry
) -> None:
    student = await p37.register()
    new_id = p37.new_id_number()
    change = await p37.client.post(
        f"/api/v1/students/{student['id']}/key-data-changes",
        json={"id_number": new_id, "reason": "身份证号录入错误", "evidence_ids": [await _evidence(p37)]},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert change.status_code == 201, change.text
    review_id = change.json()["id"]
    assert (await _decide(p37, review_id, Role.SCHOOL_LEADER)).status_code == 200

    # From here on the province's registry is the slow one (the registration above used the usual).
    for _ in _use(p37, HttpPopulationRegistry(slow_registry.url, timeout=30)):
        final = asyncio.create_task(_decide(p37, review_id, Role.COUNTY, opinion="同意"))
        assert await asyncio.to_thread(slow_registry.asked.wait, 20), "the registry was never asked"
        # The registry is answering: neither the student's row nor the review item is locked.
        await _update_under_lock_timeout(
            p37, "UPDATE student SET counselor_id = 'c-during-check' WHERE id = :id", id=student["id"]
        )
        await _update_under_lock_timeout(
            p37, "UPDATE review_item SET updated_at = now() WHERE id = :id", id=review_id
        )
        assert not final.done()
        slow_registry.release.set()
        decided = await final
    assert decided.status_code == 200 and decided.json()["state"] == "approved", decided.text

    async with p37.ctx.sessionmaker() as session:
        row = await session.get(Student, student["id"])
        assert row is not None
        assert (row.id_number, row.student_number) == (new_id, "G" + new_id)
        assert row.counselor_id == "c-during-check"  # the concurrent update was not lost
        changes = await session.scalar(
            select(func.count())
            .select_from(StudentHistory)
            .where(StudentHistory.student_id == student["id"], StudentHistory.action == "key_data_changed")
        )
    assert changes == 1
    assert len(await p37.outbox_about("enrollment.student.key_data_changed", student["id"])) == 1
    assert slow_registry.calls == 1
