"""The identity check: pass → formal number; fail or unreachable → temporary number and a
problem record; foreign IDs are not checked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.enrollment.identity_check import FilePopulationRegistry, HttpPopulationRegistry, IdentityVerdict
from services.enrollment.models.problems import ProblemRecord
from services.enrollment.registering import EXTRAS_KEY, RegistrationDeps
from services.enrollment.tests.integration.conftest import Province
from services.enrollment.tests.integration.imports_support import (
    finished,
    fresh_id,
    new_class,
    report,
    row,
    upload,
    workbook,
)
from shared.auth import Role
from shared.testing import free_port


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    return tmp_path / "population.json"


def _use(p: Province, registry: Any) -> Iterator[None]:
    deps: RegistrationDeps = p.ctx.extras[EXTRAS_KEY]
    p.ctx.extras[EXTRAS_KEY] = RegistrationDeps(
        province=deps.province,
        partners=deps.partners,
        digest_key=deps.digest_key,
        registry=registry,
        calendar=deps.calendar,
    )
    try:
        yield
    finally:
        p.ctx.extras[EXTRAS_KEY] = deps


@pytest.fixture
def known_people(p37: Province, registry_file: Path) -> Iterator[dict[str, str]]:
    people = {fresh_id(p37): "林知", fresh_id(p37): "高远"}
    registry_file.write_text(
        json.dumps([{"name": n, "id_number": i} for i, n in people.items()], ensure_ascii=False)
    )
    yield from (people for _ in _use(p37, FilePopulationRegistry.from_file(registry_file)))


async def _problems(p: Province, student_id: str) -> list[ProblemRecord]:
    async with p.ctx.sessionmaker() as session:
        return list(
            await session.scalars(select(ProblemRecord).where(ProblemRecord.student_id == student_id))
        )


async def test_identity_check__pass_gives_the_formal_number(
    p37: Province, known_people: dict[str, str]
) -> None:
    number, name = next(iter(known_people.items()))
    student = await p37.register(name=name, id_number=number, class_id="class-3737010001-2025-1")
    assert student["student_number"] == "G" + number
    assert await _problems(p37, student["id"]) == []


async def test_identity_check__wrong_name_gives_a_temporary_number_and_a_problem_record(
    p37: Province, known_people: dict[str, str]
) -> None:
    number = next(iter(known_people))
    student = await p37.register(name="冒名", id_number=number, class_id="class-3737010001-2025-1")
    assert student["student_number"] == "L" + student["id"].replace("-", "")
    [problem] = await _problems(p37, student["id"])
    assert (problem.kind, problem.status, problem.acting_side) == ("identity_check_failed", "open", "here")
    assert "姓名与身份证号码不一致" in problem.detail and problem.due_on is not None


async def test_identity_check__import_rows_get_the_same_treatment(
    p37: Province, known_people: dict[str, str]
) -> None:
    (known, name), (unknown_name_number, _) = list(known_people.items())
    stranger = fresh_id(p37)
    class_id = await new_class(p37)
    accepted = await upload(p37, class_id, workbook([row(name, known), row("陌生人", stranger)]))
    progress = await finished(p37, accepted.json()["id"])
    assert progress["registered"] == 2
    notes = (await report(p37, progress["id"]))["notes"]
    assert len(notes) == 1 and notes[0].startswith("第3行") and "临时学籍号" in notes[0]
    del unknown_name_number


async def test_identity_check__unreachable_registry_is_a_failed_check(p37: Province) -> None:
    registry = HttpPopulationRegistry(f"http://127.0.0.1:{free_port()}/check", timeout=1.0)
    assert await registry.check("谁", fresh_id(p37)) is IdentityVerdict.UNAVAILABLE
    for _ in _use(p37, registry):
        student = await p37.register(name="断网", class_id="class-3737010001-2025-1")
        assert student["student_number"].startswith("L")
        [problem] = await _problems(p37, student["id"])
        assert "暂时无法访问" in problem.detail


async def test_identity_check__passports_are_not_checked(p37: Province, known_people: dict[str, str]) -> None:
    response = await p37.client.post(
        "/api/v1/students",
        json={
            "name": "Anna Li",
            "id_type": "passport",
            "id_number": f"E{p37.rng.randint(10**7, 10**8 - 1)}",
            "class_id": "class-3737010001-2025-1",
            "sex": "F",
            "birth_date": "2010-02-03",
        },
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert response.status_code == 201, response.text
    student = response.json()
    assert student["student_number"].startswith("L") and student["sex"] == "F"
    assert await _problems(p37, student["id"]) == []
