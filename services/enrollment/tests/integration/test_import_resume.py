"""An import survives its worker: stopped in the middle (as a crash would leave it, lease
held), a new worker finishes it and registers nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from services.enrollment.imports.worker import WORKER_KEY, ImportWorker, worker_of
from services.enrollment.models import Student
from services.enrollment.models.imports import RegistrationImport
from services.enrollment.tests.integration.conftest import Province
from services.enrollment.tests.integration.imports_support import (
    finished,
    fresh_id,
    new_class,
    row,
    upload,
    workbook,
)


async def _count(p: Province, class_id: str) -> int:
    async with p.ctx.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(Student.class_id == class_id)) or 0)


async def test_import__resumes_after_its_worker_dies_mid_import(p41: Province) -> None:
    await worker_of(p41.ctx).stop()  # the service's worker is gone, as in a crash
    class_id = await new_class(p41)
    numbers = [fresh_id(p41) for _ in range(25)]
    accepted = await upload(
        p41, class_id, workbook([row("学生" + chr(0x4E00 + i), n) for i, n in enumerate(numbers)])
    )
    import_id = accepted.json()["id"]

    dying = ImportWorker(p41.ctx)
    dying.batch_rows = 10
    assert await dying.claim() == import_id
    await dying._read_rows(import_id)
    assert await dying._next_batch(import_id)  # one batch of 10 committed, then it "dies"
    assert await _count(p41, class_id) == 10
    async with p41.ctx.sessionmaker() as session:
        job = await session.get(RegistrationImport, import_id)
        assert job is not None and (job.status, job.processed, job.registered) == ("running", 10, 10)
    # Its lease still holds the job: nobody else takes it until the lease runs out.
    fresh = ImportWorker(p41.ctx)
    assert await fresh.claim() is None
    async with p41.ctx.sessionmaker() as session:
        await session.execute(
            update(RegistrationImport)
            .where(RegistrationImport.id == import_id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()

    p41.ctx.extras[WORKER_KEY] = fresh
    fresh.start()  # the restarted service's worker
    progress = await finished(p41, import_id)
    assert (progress["total"], progress["processed"], progress["registered"], progress["failed"]) == (
        25,
        25,
        25,
        0,
    )
    assert await _count(p41, class_id) == 25
    async with p41.ctx.sessionmaker() as session:
        distinct = await session.scalar(
            select(func.count(func.distinct(Student.id_number))).where(Student.class_id == class_id)
        )
    assert distinct == 25
