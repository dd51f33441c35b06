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
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import trace
from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from services.enrollment.dedupe import registered_here
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
    CheckedRegistration,
    RegistrationDeps,
    deps_of,
    identity_verdict,
    load_offer,
    write_registrations,
)
from services.enrollment.registration_windows import registration_window_refusal
from shared.china_time import today_in_china
from shared.id_digest import load_digest_key
from shared.periodic import PeriodicTask
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


# The class is chosen at upload, not a column of the workbook; a problem of the class is
# reported under this name.
CLASS_COLUMN = "班级"


def already_registered_problem(id_type: IdType) -> dict[str, str]:
    return {
        "column": column_of("id_number", id_type),
        "reason_zh": "该证件号码已在本省注册学籍（查重未通过）",
        "reason_en": "already registered in this province",
    }


class ImportWorker(PeriodicTask):
    """Runs the waiting jobs to their end, then idles until an upload wakes it (or a second has
    passed: another process of the province may have taken the upload)."""

    name = "enrollment-import-worker"

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx, IDLE_POLL_SECONDS)
        self.wake = asyncio.Event()
        self._conflicts = 0
        self.batch_rows = ctx.settings.import_batch_rows

    async def step(self) -> None:
        while (job := await self.claim()) is not None:
            await self.process(job)

    async def _pause(self) -> None:
        # An upload sets ``wake``: its job starts now rather than after a whole interval.
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), self.interval)

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
            # Each call commits one batch, so a crash loses at most the batch in flight.
            more = True
            while more:
                more = await self._next_batch(import_id)

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
        """One batch of pending rows; False when none is left (the job is then done).

        The batch is decided in two steps so the population registry (an outside call) is never
        asked while the job row is locked: ``_plan`` reads and checks the rows and fetches their
        verdicts without a lock, ``_apply`` then takes the job's lock and writes the outcome of
        the rows that are still pending. The rows' cells never change, so what was decided
        about them holds; the in-province duplicate check is made again under the lock, and a
        row whose verdict was not fetched (it was a duplicate then, is not now) stays pending
        for the next batch. Each row is decided by exactly one committed batch."""
        deps = deps_of(self.ctx)
        plan = await self._plan(import_id, deps)
        if plan is None:
            return False
        try:
            return await self._apply(import_id, plan, deps)
        except IntegrityError:
            # A single entry of the same ID won a race inside this batch: redo the batch,
            # this time the duplicate check sees that record.
            self._conflicts += 1
            if self._conflicts > MAX_BATCH_CONFLICTS:
                raise
            log.info("import %s: a row's ID was registered meanwhile; batch redone", import_id)
            return True

    async def _plan(self, import_id: str, deps: RegistrationDeps) -> _Plan | None:
        async with self.ctx.sessionmaker() as session:
            job = await session.get(RegistrationImport, import_id)
            if job is None:
                return None
            rows = (
                await session.execute(
                    select(RegistrationImportRow.row_number, RegistrationImportRow.values)
                    .where(
                        RegistrationImportRow.import_id == import_id,
                        RegistrationImportRow.status == "pending",
                    )
                    .order_by(RegistrationImportRow.row_number)
                    .limit(self.batch_rows)
                )
            ).all()
            id_type: IdType = job.id_type  # type: ignore[assignment]
            plan = _Plan(id_type=id_type)
            if not rows:
                return plan
            klass = await session.get(SchoolClass, job.class_id)
            assert klass is not None  # foreign key
            today = today_in_china()
            closed = await registration_window_refusal(session, klass, today)
            if closed is not None:  # the class's intake may not register today: every row says so
                en, zh = closed
                for number, _ in rows:
                    plan.problems[number] = [{"column": CLASS_COLUMN, "reason_zh": zh, "reason_en": en}]
                return plan
            candidates = {number: candidate_of(values, id_type) for number, values in rows}
            majors = [c.major_code for c in candidates.values() if not isinstance(c, list)]
            offer = await load_offer(session, klass, majors)
            for number, candidate in candidates.items():
                checked = (
                    candidate
                    if isinstance(candidate, list)
                    else validate_registration(candidate, offer, today=today)
                )
                if isinstance(checked, list):
                    plan.problems[number] = [problem_dict(v, id_type) for v in checked]
                else:
                    plan.valid[number] = checked
            taken = await registered_here(session, [r.id_number for r in plan.valid.values()])
        # The session is closed: no transaction is open while the registry answers.
        plan.verdicts = await _verdicts(deps, [r for r in plan.valid.values() if r.id_number not in taken])
        return plan

    async def _apply(self, import_id: str, plan: _Plan, deps: RegistrationDeps) -> bool:
        async with self.ctx.uow() as uow:
            session = uow.session
            job = await session.get(RegistrationImport, import_id, with_for_update=True)
            if job is None:
                return False
            numbers = [*plan.problems, *plan.valid]
            if not numbers:  # rows only become pending when the file is read, before any batch
                job.status = "done"
                job.finished_at = datetime.now(UTC)
                job.lease_until = None
                await uow.commit()
                return False
            # Rows another worker decided since (its lease ran out under us) are left alone.
            pending = set(
                await session.scalars(
                    select(RegistrationImportRow.row_number).where(
                        RegistrationImportRow.import_id == import_id,
                        RegistrationImportRow.status == "pending",
                        RegistrationImportRow.row_number.in_(numbers),
                    )
                )
            )
            klass = await session.get(SchoolClass, job.class_id)
            school = await session.get(School, job.school_code)
            assert klass is not None and school is not None  # foreign keys
            outcomes: dict[int, dict[str, Any]] = {
                n: _failed(problems) for n, problems in plan.problems.items() if n in pending
            }
            valid = {n: r for n, r in plan.valid.items() if n in pending}
            taken = await registered_here(session, [r.id_number for r in valid.values()])
            to_write: list[tuple[int, CheckedRegistration]] = []
            for number, registration in valid.items():
                if registration.id_number in taken:
                    outcomes[number] = _failed([already_registered_problem(plan.id_type)])
                elif registration.id_number in plan.verdicts:
                    verdict = plan.verdicts[registration.id_number]
                    to_write.append((number, CheckedRegistration(registration, verdict)))
                # else: no verdict was fetched for it (a duplicate at planning): next batch.
            student_ids = await write_registrations(
                uow, [c for _, c in to_write], klass=klass, school=school, deps=deps, source="Excel导入"
            )
            for (number, c), student_id in zip(to_write, student_ids, strict=True):
                outcomes[number] = {
                    "status": "registered",
                    "problems": [],
                    "student_id": student_id,
                    "note": f"{c.verdict.reason_zh}；已分配临时学籍号并生成问题学籍"
                    if c.verdict is not None and not c.verdict.passed
                    else None,
                }
            if outcomes:
                await _record_outcomes(session, import_id, outcomes)
            job.registered += len(student_ids)
            job.failed += len(outcomes) - len(student_ids)
            job.processed += len(outcomes)
            job.lease_until = datetime.now(UTC) + LEASE
            await uow.commit()
            self._conflicts = 0
            return True


@dataclass
class _Plan:
    """A batch decided without locks: rows with problems, valid registrations and the registry's
    verdicts (by ID number) of those that were not already registered, by row number."""

    id_type: IdType
    problems: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    valid: dict[int, Registration] = field(default_factory=dict)
    verdicts: dict[str, IdentityVerdict | None] = field(default_factory=dict)


# The rows' outcomes as one UPDATE over arrays: one statement per batch where an executemany
# ran one UPDATE per row (measured at 100,000 rows: ~4 ms a batch of 500 instead of ~8 ms).
_RECORD_OUTCOMES = text(
    """UPDATE registration_import_row AS r
    SET status = o.status, problems = o.problems::jsonb, student_id = o.student_id, note = o.note
    FROM unnest(CAST(:row_numbers AS integer[]), CAST(:statuses AS text[]), CAST(:problems AS text[]),
                CAST(:student_ids AS text[]), CAST(:notes AS text[]))
         AS o(row_number, status, problems, student_id, note)
    WHERE r.import_id = :import_id AND r.row_number = o.row_number"""
)


async def _record_outcomes(
    session: AsyncSession, import_id: str, outcomes: dict[int, dict[str, Any]]
) -> None:
    numbers = list(outcomes)
    await session.execute(
        _RECORD_OUTCOMES,
        {
            "import_id": import_id,
            "row_numbers": numbers,
            "statuses": [outcomes[n]["status"] for n in numbers],
            "problems": [json.dumps(outcomes[n]["problems"], ensure_ascii=False) for n in numbers],
            "student_ids": [outcomes[n]["student_id"] for n in numbers],
            "notes": [outcomes[n]["note"] for n in numbers],
        },
    )


def _failed(problems: list[dict[str, str]]) -> dict[str, Any]:
    return {"status": "failed", "problems": problems, "student_id": None, "note": None}


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
