"""The import worker: one background task per process, started at service start.

A job is claimed with a lease (``lease_until``) so one worker at a time holds it; a process that
dies mid-import leaves its lease to run out and the next worker (the restarted process) carries
on with the rows still ``pending``. Each batch of rows commits in one unit of work — records,
history lines, events, problem records and the rows' outcomes together — so a crash loses at
most the batch in flight, and that batch is redone from scratch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from opentelemetry import trace
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import undefer

from services.enrollment.dedupe import load_digest_key, registered_here
from services.enrollment.domain.registration import (
    IdType,
    Registration,
    RuleViolation,
    normalise_foreign_id,
    normalised_id_number,
    validate_registration,
)
from services.enrollment.handlers import bind_handler_deps
from services.enrollment.identity_check import IdentityVerdict, registry_from_settings
from services.enrollment.imports.template import candidate_of, column_of, read_sheet
from services.enrollment.models import School, SchoolClass
from services.enrollment.models.imports import RegistrationImport, RegistrationImportRow
from services.enrollment.registering import (
    EXTRAS_KEY,
    RegistrationDeps,
    deps_of,
    identity_verdict,
    load_offer,
    today_in_china,
    write_registration,
)
from shared.bus.unit_of_work import UnitOfWork
from shared.service import ServiceContext
from shared.telemetry import ATTR_IMPORT_ID, suppress_instrumentation

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.enrollment")

WORKER_KEY = "import_worker"
LEASE = timedelta(seconds=30)
IDLE_POLL_SECONDS = 1.0
IDENTITY_CONCURRENCY = 16
MAX_BATCH_CONFLICTS = 5  # then the round fails loudly rather than spin on the same batch


def problem_dict(violation: RuleViolation, id_type: IdType) -> dict[str, str]:
    return {
        "column": column_of(violation.field, id_type),
        "reason_zh": violation.reason_zh,
        "reason_en": violation.reason_en,
    }


def already_registered_problem(id_type: IdType) -> dict[str, str]:
    return {
        "column": column_of("id_number", id_type),
        "reason_zh": "该证件号码已在本省注册学籍（查重未通过）",
        "reason_en": "already registered in this province",
    }


class ImportWorker:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._conflicts = 0
        self.batch_rows = ctx.settings.import_batch_rows

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name="enrollment-import-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _service_stopped(self) -> bool:
        # The service has no stop hook; its broker connection is closed at shutdown, which is
        # also when the database goes away — so that is when the worker stops too.
        return self.ctx.amqp.is_closed

    async def run_forever(self) -> None:
        while not self._service_stopped():
            try:
                job = await self.claim()
                if job is not None:
                    await self.process(job)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("import worker: a round failed; retrying")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), IDLE_POLL_SECONDS)

    async def claim(self) -> str | None:
        """Take the oldest unfinished import whose lease is free."""
        with suppress_instrumentation():  # polling must not start a trace every second
            async with self.ctx.sessionmaker() as session:
                candidate = (
                    select(RegistrationImport.id)
                    .where(
                        RegistrationImport.status.in_(["queued", "running"]),
                        or_(
                            RegistrationImport.lease_until.is_(None),
                            RegistrationImport.lease_until < func.now(),
                        ),
                    )
                    .order_by(RegistrationImport.created_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                    .scalar_subquery()
                )
                claimed = await session.scalar(
                    update(RegistrationImport)
                    .where(RegistrationImport.id == candidate)
                    .values(lease_until=func.now() + LEASE)
                    .returning(RegistrationImport.id)
                )
                await session.commit()
                return claimed

    async def process(self, import_id: str) -> None:
        with tracer.start_as_current_span("import registrations", attributes={ATTR_IMPORT_ID: import_id}):
            await self._read_rows(import_id)
            while await self._next_batch(import_id):
                pass  # each call commits one batch; the loop ends when none is left

    async def _read_rows(self, import_id: str) -> None:
        """First round of a job: the file's rows become pending rows; duplicates inside the
        file fail here, each naming the row it repeats."""
        async with self.ctx.uow() as uow:
            job = await uow.session.get(
                RegistrationImport,
                import_id,
                with_for_update=True,
                options=[undefer(RegistrationImport.content)],
            )
            if job is None or job.total is not None:
                return
            sheet = await asyncio.to_thread(read_sheet, job.content)  # checked at upload
            id_type: IdType = sheet.id_type
            first_seen: dict[str, int] = {}
            rows = []
            failed = 0
            for row_number, values in sheet.rows:
                key = _dedupe_key(values.get(column_of("id_number", id_type), ""), id_type)
                problems: list[dict[str, str]] = []
                if key and key in first_seen:
                    problems.append(
                        {
                            "column": column_of("id_number", id_type),
                            "reason_zh": f"与第{first_seen[key]}行的证件号码重复（文件内重复）",
                            "reason_en": f"duplicate of row {first_seen[key]} in this file",
                        }
                    )
                    failed += 1
                elif key:
                    first_seen[key] = row_number
                rows.append(
                    {
                        "import_id": import_id,
                        "row_number": row_number,
                        "status": "failed" if problems else "pending",
                        "values": values,
                        "problems": problems,
                    }
                )
            if rows:
                await uow.session.execute(insert(RegistrationImportRow), rows)
            job.total = len(rows)
            job.failed = failed
            job.processed = failed
            job.status = "running"
            await uow.commit()

    async def _next_batch(self, import_id: str) -> bool:
        """One batch of pending rows; False when none is left (the job is then done)."""
        deps = deps_of(self.ctx)
        async with self.ctx.uow() as uow:
            session = uow.session
            job = await session.get(RegistrationImport, import_id, with_for_update=True)
            if job is None:
                return False
            rows = list(
                await session.scalars(
                    select(RegistrationImportRow)
                    .where(
                        RegistrationImportRow.import_id == import_id,
                        RegistrationImportRow.status == "pending",
                    )
                    .order_by(RegistrationImportRow.row_number)
                    .limit(self.batch_rows)
                )
            )
            if not rows:
                job.status = "done"
                job.finished_at = datetime.now(UTC)
                job.lease_until = None
                await uow.commit()
                return False
            klass = await session.get(SchoolClass, job.class_id)
            school = await session.get(School, job.school_code)
            assert klass is not None and school is not None  # foreign keys
            id_type: IdType = job.id_type  # type: ignore[assignment]
            await self._decide(uow, rows, klass, school, id_type, deps)
            registered = sum(1 for r in rows if r.status == "registered")
            job.registered += registered
            job.failed += len(rows) - registered
            job.processed += len(rows)
            job.lease_until = datetime.now(UTC) + LEASE
            try:
                await uow.commit()
            except IntegrityError:
                # A single entry of the same ID won a race inside this batch: redo the batch,
                # this time the duplicate check sees that record.
                self._conflicts += 1
                if self._conflicts > MAX_BATCH_CONFLICTS:
                    raise
                log.info("import %s: a row's ID was registered meanwhile; batch redone", import_id)
                return True
            self._conflicts = 0
            return True

    async def _decide(
        self,
        uow: UnitOfWork,
        rows: Sequence[RegistrationImportRow],
        klass: SchoolClass,
        school: School,
        id_type: IdType,
        deps: RegistrationDeps,
    ) -> None:
        today = today_in_china()
        candidates = {r.row_number: candidate_of(r.values, id_type) for r in rows}
        majors = [c.major_code for c in candidates.values() if not isinstance(c, list)]
        offer = await load_offer(uow.session, klass, majors)
        valid: dict[int, Registration] = {}
        for row in rows:
            candidate = candidates[row.row_number]
            checked = (
                candidate
                if isinstance(candidate, list)
                else validate_registration(candidate, offer, today=today)
            )
            if isinstance(checked, list):
                row.status = "failed"
                row.problems = [problem_dict(v, id_type) for v in checked]
            else:
                valid[row.row_number] = checked
        taken = await registered_here(uow.session, [r.id_number for r in valid.values()])
        verdicts = await _verdicts(deps, [r for r in valid.values() if r.id_number not in taken])
        for row in rows:
            registration = valid.get(row.row_number)
            if registration is None:
                continue
            if registration.id_number in taken:
                row.status = "failed"
                row.problems = [already_registered_problem(id_type)]
                continue
            verdict = verdicts.get(registration.id_number)
            student, _ = await write_registration(
                uow, registration, klass=klass, school=school, verdict=verdict, deps=deps, source="Excel导入"
            )
            row.status = "registered"
            row.student_id = student.id
            if verdict is not None and not verdict.passed:
                row.note = f"{verdict.reason_zh}；已分配临时学籍号并生成问题学籍"


async def _verdicts(
    deps: RegistrationDeps, registrations: list[Registration]
) -> dict[str, IdentityVerdict | None]:
    """Identity checks of a batch, a bounded number at a time (the registry is a shared service)."""
    if not deps.registry.remote:
        # Answered in process: one task per row would cost more than the check itself.
        return {r.id_number: await identity_verdict(deps.registry, r) for r in registrations}
    gate = asyncio.Semaphore(IDENTITY_CONCURRENCY)

    async def one(registration: Registration) -> tuple[str, IdentityVerdict | None]:
        async with gate:
            return registration.id_number, await identity_verdict(deps.registry, registration)

    return dict(await asyncio.gather(*(one(r) for r in registrations)))


def _dedupe_key(raw: str, id_type: IdType) -> str:
    # Malformed numbers are compared as typed: two rows with the same typo are still duplicates.
    return normalised_id_number(id_type, raw) or normalise_foreign_id(raw)


async def start_registration(ctx: ServiceContext) -> None:
    """What registering needs (registry, digest key, calendar) and the import worker."""
    deps = RegistrationDeps(
        province=ctx.settings.province,
        partners=tuple(ctx.settings.partners),
        digest_key=load_digest_key(ctx.settings.dedupe_hmac_key_file),
        registry=registry_from_settings(ctx.settings),
        calendar=ctx.extras["calendar"],
    )
    ctx.extras[EXTRAS_KEY] = deps
    bind_handler_deps(deps)
    worker = ImportWorker(ctx)
    ctx.extras[WORKER_KEY] = worker
    worker.start()


def worker_of(ctx: ServiceContext) -> ImportWorker:
    worker: ImportWorker = ctx.extras[WORKER_KEY]
    return worker
