"""A problem record resolved by changing the ID number puts the new number through the checks a
key-data change makes (identity_recheck.py): the identity check decides the student number (a
failure opens an identity_check_failed record), and the new digest is announced to the partner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from services.enrollment.identity_check import FilePopulationRegistry
from services.enrollment.models.problems import ProblemRecord
from services.enrollment.registering import EXTRAS_KEY, RegistrationDeps
from services.enrollment.tests.integration.conftest import Province, envelope_of
from services.enrollment.tests.integration.test_identity_check import _use
from services.enrollment.tests.integration.test_problem_records_api import _act_approved, _pair, _student
from shared.id_digest import id_digest

ANNOUNCED = "enrollment.id_digest.announced"


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    return tmp_path / "population.json"


def _knowing(p: Province, registry_file: Path, people: dict[str, str]) -> Iterator[None]:
    """The province's identity check asks a registry that knows exactly ``people`` (ID → name)."""
    registry_file.write_text(
        json.dumps([{"name": n, "id_number": i} for i, n in people.items()], ensure_ascii=False)
    )
    yield from _use(p, FilePopulationRegistry.from_file(registry_file))


async def _identity_cases(p: Province, student_id: str) -> list[ProblemRecord]:
    async with p.ctx.sessionmaker() as session:
        return list(
            await session.scalars(
                select(ProblemRecord).where(
                    ProblemRecord.student_id == student_id, ProblemRecord.kind == "identity_check_failed"
                )
            )
        )


def _digest_key(p: Province) -> bytes:
    deps: RegistrationDeps = p.ctx.extras[EXTRAS_KEY]
    assert deps.digest_key is not None
    return deps.digest_key


async def _announced(p: Province, student_id: str) -> list[str]:
    rows = await p.outbox_about(ANNOUNCED, student_id)
    assert all(r.routing_key == f"37.{ANNOUNCED}" for r in rows)  # to the partner, province 37
    return [envelope_of(r).data["digest"] for r in rows]


async def test_change__a_confirmed_new_id_gets_its_formal_number_and_a_new_announced_digest(
    p41: Province, registry_file: Path
) -> None:
    _, later, first, _ = await _pair(p41)
    old = await _student(p41, later["id"])
    new_number = p41.new_id_number()
    for _ in _knowing(p41, registry_file, {new_number: "张叁"}):
        response = await _act_approved(p41, first, "change", new_id_number=new_number)
    assert response["resolution"] == "first_changed"
    changed = await _student(p41, later["id"])
    assert changed.student_number == "G" + new_number
    new_digest = id_digest(_digest_key(p41), "resident_id", new_number)
    assert changed.id_digest == new_digest != old.id_digest
    assert await _announced(p41, later["id"]) == [old.id_digest, new_digest]
    assert await _identity_cases(p41, later["id"]) == []


async def test_change__a_new_id_the_registry_refuses_gets_a_temporary_number_and_a_problem_record(
    p41: Province, registry_file: Path
) -> None:
    _, later, first, _ = await _pair(p41)
    assert later["student_number"].startswith("G")
    new_number = p41.new_id_number()
    for _ in _knowing(p41, registry_file, {new_number: "别人"}):
        response = await _act_approved(p41, first, "change", new_id_number=new_number)
    assert response["resolution"] == "first_changed"
    assert new_number not in str(response)
    changed = await _student(p41, later["id"])
    assert changed.id_number == new_number
    assert changed.student_number == "L" + later["id"].replace("-", "")
    [case] = await _identity_cases(p41, later["id"])
    assert case.status == "open" and case.detail.startswith("身份信息核验未通过：姓名与身份证号码不一致")
    assert "问题学籍变更后" in case.detail
    new_digest = id_digest(_digest_key(p41), "resident_id", new_number)
    assert changed.id_digest == new_digest
    assert (await _announced(p41, later["id"]))[-1] == new_digest
