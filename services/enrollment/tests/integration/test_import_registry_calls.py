"""The import asks the population registry (an outside call) with no lock held on its job, and
a row registered by single entry while the registry answers is still registered only once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from services.enrollment.identity_check import IdentityVerdict
from services.enrollment.imports.worker import WORKER_KEY, ImportWorker, worker_of
from services.enrollment.models import Student
from services.enrollment.registering import EXTRAS_KEY, RegistrationDeps
from services.enrollment.tests.integration.conftest import SCHOOL, Province
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


@dataclass
class ProbingRegistry:
    """A remote registry that, while answering, tries to share-lock the import's job row without
    waiting, and on its first call registers ``snatch`` by single entry (a registrar racing the
    import)."""

    p: Province
    import_id: str = ""
    snatch: str = ""
    locked_out: list[str] = field(default_factory=list)
    calls: int = 0
    remote: bool = True

    async def check(self, name: str, id_number: str) -> IdentityVerdict:
        self.calls += 1
        if self.import_id:
            async with self.p.ctx.sessionmaker() as session:
                try:
                    await session.execute(
                        text("SELECT id FROM registration_import WHERE id = :id FOR SHARE NOWAIT"),
                        {"id": self.import_id},
                    )
                except DBAPIError:
                    self.locked_out.append(id_number)
                await session.rollback()
        if self.snatch and id_number != self.snatch:
            snatch, self.snatch = self.snatch, ""
            response = await self.p.client.post(
                "/api/v1/students",
                json={
                    "name": "单个录入",
                    "id_type": "resident_id",
                    "id_number": snatch,
                    "class_id": f"class-{SCHOOL[self.p.code]}-2024-1",
                },
                headers=self.p.auth(Role.SCHOOL_REGISTRAR),
            )
            assert response.status_code == 201, response.text
        return IdentityVerdict.MATCH


async def test_import__registry_answers_with_the_job_unlocked_and_a_racing_entry_wins_once(
    p41: Province,
) -> None:
    service_worker = worker_of(p41.ctx)
    await service_worker.stop()
    deps: RegistrationDeps = p41.ctx.extras[EXTRAS_KEY]
    registry = ProbingRegistry(p41)
    p41.ctx.extras[EXTRAS_KEY] = replace(deps, registry=registry)
    worker = ImportWorker(p41.ctx)
    worker.batch_rows = 4
    try:
        class_id = await new_class(p41)
        numbers = [fresh_id(p41) for _ in range(10)]
        accepted = await upload(
            p41, class_id, workbook([row("学生" + chr(0x4E00 + i), n) for i, n in enumerate(numbers)])
        )
        registry.import_id = accepted.json()["id"]
        registry.snatch = numbers[2]  # row 4: registered by hand while the registry answers row 2
        p41.ctx.extras[WORKER_KEY] = worker
        worker.start()
        progress = await finished(p41, registry.import_id)
    finally:
        await worker.stop()
        p41.ctx.extras[EXTRAS_KEY] = deps
        fresh = ImportWorker(p41.ctx)
        p41.ctx.extras[WORKER_KEY] = fresh
        fresh.start()

    assert registry.calls >= 10 and registry.locked_out == []
    assert (progress["total"], progress["registered"], progress["failed"]) == (10, 9, 1)
    [failed] = (await report(p41, registry.import_id))["failed_rows"]
    assert failed["row"] == 4 and "已在本省注册" in failed["problems"][0]["reason_zh"]
    async with p41.ctx.sessionmaker() as session:
        counted = await session.scalar(
            select(func.count()).where(Student.id_number == numbers[2], Student.status == "in_school")
        )
        in_class = await session.scalar(select(func.count()).where(Student.class_id == class_id))
    assert counted == 1 and in_class == 9
