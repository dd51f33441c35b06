"""The print worker: renders queued batches in the background, chunk by chunk, on every core.

A chunk (``CHUNK_SIZE`` consecutive items of a batch) is claimed by locking its item rows
``FOR UPDATE SKIP LOCKED`` in a transaction held while it renders: two service processes (and
the lanes of one) share a batch chunk by chunk, and a process that dies drops its locks with its
connection, so its chunk is free again at once — no lease to wait out. The transaction that
rendered a chunk marks its items ``rendered_at`` and adds them to the batch's ``done``, so a
restart resumes at the first unrendered chunk and nothing is counted twice.

Rendering runs in a process pool (render_pool.py); the event loop only loads faces, fetches
photos and writes rows. When every item is rendered the printer's parts are joined and the
batch is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date

from opentelemetry import trace
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.batches.files import JoinFailed, join_printer_parts, printer_part
from services.certificates.batches.files import batch_directory as batch_dir
from services.certificates.batches.render_pool import (
    ChunkJob,
    StudentFile,
    render_chunk,
    render_pool,
    usable_cpus,
)
from services.certificates.batches.rules import (
    DRAFT_NUMBER,
    DRAFT_QR_TEXT,
    BatchEvent,
    BatchState,
    TransitionNotAllowed,
    chunk_of,
    chunk_range,
    per_student_stem,
    transition,
)
from services.certificates.domain.certificate_face import face_from_json, graduation_face
from services.certificates.issuing import first_issue_day
from services.certificates.models import (
    Certificate,
    GraduationEntry,
    GraduationList,
    PrintBatch,
    PrintBatchItem,
)
from services.certificates.peers import PeerUnavailable
from services.certificates.printing.face import CertificateFace, PrintLayout, RenderItem
from services.certificates.startup import peers_of
from shared.periodic import PeriodicTask
from shared.service import ServiceContext
from shared.telemetry import suppress_instrumentation

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.certificates")

WORKER_KEY = "print_worker"
# 50 pages per compile: STACK.md measured batches of 50 as the fastest per page (500 were
# slower); it is also the resume granularity (a restart redoes at most this many per lane).
CHUNK_SIZE = 50
IDLE_POLL_SECONDS = 2.0
MAX_ERROR_CHARS = 1000
_UNFINISHED = (BatchState.QUEUED.value, BatchState.RUNNING.value)


class ChunkUnprintable(Exception):
    """The chunk's data cannot be printed (a face refused, a student enrollment does not know):
    the batch fails with this message rather than retry forever."""


@dataclass(frozen=True)
class Claim:
    batch: PrintBatch
    chunk: int
    items: list[PrintBatchItem]


def layout_of(batch: PrintBatch) -> PrintLayout:
    values = batch.layout
    return PrintLayout(
        offset_x_mm=float(values["offset_x_mm"]),
        offset_y_mm=float(values["offset_y_mm"]),
        draft=bool(values["draft"]),
        photo_mode=values["photo_mode"],
    )


class PrintWorker(PeriodicTask):
    """Renders until nothing is left, then polls (another process may take a batch) or is woken
    by a new batch of its own process."""

    name = "certificates-print-worker"

    def __init__(
        self,
        ctx: ServiceContext,
        *,
        chunk_size: int = CHUNK_SIZE,
        processes: int | None = None,
        interval: float = IDLE_POLL_SECONDS,
    ) -> None:
        super().__init__(ctx, interval)
        self.wake = asyncio.Event()
        self.chunk_size = chunk_size
        # One chunk in flight per pool process keeps every core busy.
        self.lanes = processes or ctx.settings.certificate_print_processes or usable_cpus()
        self._pool: ProcessPoolExecutor | None = None

    def _pool_executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = render_pool(self.lanes)
        return self._pool

    async def stop(self, grace: float = 0.0) -> None:
        await super().stop(grace)
        # A chunk still rendering is abandoned: its transaction has rolled back, so the next
        # worker renders it again (its files are replaced atomically).
        self._drop_pool()

    def _drop_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def _pause(self) -> None:
        self.wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.interval):
                await self.wake.wait()

    async def step(self) -> None:
        if not await self._has_work():
            return
        await asyncio.gather(*(self._lane() for _ in range(self.lanes)))
        await self.finish_batches()

    async def _has_work(self) -> bool:
        with suppress_instrumentation():  # an idle poll every few seconds must not start a trace
            async with self.ctx.sessionmaker() as session:
                found = await session.scalar(
                    select(PrintBatch.id).where(PrintBatch.state.in_(_UNFINISHED)).limit(1)
                )
        return found is not None

    async def _lane(self) -> None:
        # Chunks back to back while there are free ones; the next wake or poll starts again.
        while not self._stopping.is_set():
            if not await self.render_next_chunk():
                return

    async def render_next_chunk(self) -> bool:
        """Claim, render and record one chunk; False when no chunk is free (or peers are down:
        the next step tries again)."""
        async with self.ctx.sessionmaker() as session:
            claim = await self._claim(session)
            if claim is None:
                return False
            batch_id = claim.batch.id  # the row expires at a rollback: read it now
            with tracer.start_as_current_span("render print chunk"):
                try:
                    job = await self._job(session, claim)
                    output = await asyncio.get_running_loop().run_in_executor(
                        self._pool_executor(), render_chunk, job
                    )
                except PeerUnavailable:
                    log.warning("print batch %s: a peer is unavailable; retrying later", batch_id)
                    return False
                except BrokenProcessPool:
                    # A render process died (killed, out of memory): not the batch's fault. A
                    # new pool takes the chunk again at the next step.
                    log.warning("print batch %s: the render pool broke; restarting it", batch_id)
                    self._drop_pool()
                    return False
                except Exception as error:  # bad data, or the renderer refused it
                    await session.rollback()
                    log.exception("print batch %s: chunk %s failed", batch_id, claim.chunk)
                    await self._fail(batch_id, f"{type(error).__name__}: {error}")
                    return True
            rendered = await session.scalars(
                update(PrintBatchItem)
                .where(
                    PrintBatchItem.batch_id == batch_id,
                    PrintBatchItem.seq.in_([i.seq for i in claim.items]),
                    PrintBatchItem.rendered_at.is_(None),
                )
                .values(rendered_at=func.now())
                .returning(PrintBatchItem.seq)
            )
            count = len(rendered.all())
            batch = await session.get(PrintBatch, batch_id, with_for_update=True, populate_existing=True)
            if batch is None:
                return True
            try:
                batch.state = transition(BatchState(batch.state), BatchEvent.CHUNK_RENDERED).value
            except TransitionNotAllowed:
                await session.rollback()  # failed meanwhile by another lane: leave it failed
                return True
            batch.done += count
            if batch.started_at is None:
                batch.started_at = func.now()
            log.debug("print batch %s: chunk %s, %s bytes", batch.id, claim.chunk, output.printer_bytes)
            await session.commit()
            return True

    async def _claim(self, session: AsyncSession) -> Claim | None:
        first = (
            await session.execute(
                select(PrintBatchItem.batch_id, PrintBatchItem.seq)
                .join(PrintBatch, PrintBatch.id == PrintBatchItem.batch_id)
                .where(
                    PrintBatch.state.in_(_UNFINISHED),
                    PrintBatchItem.rendered_at.is_(None),
                    # A chunk is claimed by its first item: two lanes racing for the same chunk
                    # meet on that one row, and the loser skips to the next chunk rather than
                    # taking the chunk's other items.
                    PrintBatchItem.seq % self.chunk_size == 0,
                )
                .order_by(PrintBatch.created_at, PrintBatchItem.batch_id, PrintBatchItem.seq)
                .limit(1)
                .with_for_update(of=PrintBatchItem, skip_locked=True)
            )
        ).first()
        if first is None:
            return None
        chunk = chunk_of(first.seq, self.chunk_size)
        positions = chunk_range(chunk, self.chunk_size)
        items = list(
            await session.scalars(
                select(PrintBatchItem)
                .where(
                    PrintBatchItem.batch_id == first.batch_id,
                    PrintBatchItem.seq >= positions.start,
                    PrintBatchItem.seq < positions.stop,
                )
                .order_by(PrintBatchItem.seq)
                .with_for_update()
            )
        )
        batch = await session.get(PrintBatch, first.batch_id)
        if batch is None or not items:
            return None
        return Claim(batch, chunk, items)

    async def _job(self, session: AsyncSession, claim: Claim) -> ChunkJob:
        batch = claim.batch
        layout = layout_of(batch)
        ids = [item.certificate_id for item in claim.items]
        certificates = {
            c.id: c for c in await session.scalars(select(Certificate).where(Certificate.id.in_(ids)))
        }
        drafts = await self._draft_faces(session, batch, [i for i in ids if i not in certificates])
        photos = await self._photos(layout, certificates, drafts)
        files: list[StudentFile] = []
        for item in claim.items:
            certificate = certificates.get(item.certificate_id)
            if certificate is not None:
                try:
                    face = face_from_json(certificate.face)
                except ValueError as error:  # issued before its characters were checked
                    raise ChunkUnprintable(f"certificate {certificate.number}: {error}") from error
                render = RenderItem(face, certificate.qr_url, photos.get(item.certificate_id))
                files.append(StudentFile(per_student_stem(certificate.number, item.seq), render))
            elif item.certificate_id in drafts:
                _, draft = drafts[item.certificate_id]
                render = RenderItem(draft, DRAFT_QR_TEXT, photos.get(item.certificate_id))
                files.append(StudentFile(per_student_stem(None, item.seq), render))
            else:
                raise ChunkUnprintable(f"item {item.seq}: its certificate no longer exists")
        return ChunkJob(
            directory=batch_dir(self.ctx.settings.certificate_output_dir, batch.id),
            printer_part=printer_part(self.ctx.settings.certificate_output_dir, batch.id, claim.chunk),
            files=tuple(files),
            layout=layout,
        )

    async def _draft_faces(
        self, session: AsyncSession, batch: PrintBatch, entry_ids: list[str]
    ) -> dict[str, tuple[str, CertificateFace]]:
        """A draft of a list not yet issued prints what would be issued: enrollment's facts,
        the list's outcome, the first issuing day, and no number yet."""
        if not entry_ids:
            return {}
        rows = (
            await session.execute(
                select(GraduationEntry, GraduationList)
                .join(GraduationList, GraduationList.id == GraduationEntry.list_id)
                .where(GraduationEntry.id.in_(entry_ids))
            )
        ).all()
        facts = await peers_of(self.ctx).certificate_facts([entry.student_id for entry, _ in rows])
        faces: dict[str, tuple[str, CertificateFace]] = {}
        refused: list[str] = []
        for entry, graduation_list in rows:
            student_facts = facts.get(entry.student_id)
            if student_facts is None:
                raise ChunkUnprintable(f"enrollment does not know student {entry.student_id}")
            issued_on: date = first_issue_day(
                graduation_list.graduating_year, self.ctx.settings.certificate_issue_from
            )
            try:
                face = graduation_face(
                    student_facts,
                    outcome=entry.outcome,
                    number=DRAFT_NUMBER,
                    issued_on=issued_on,
                    graduating_year=graduation_list.graduating_year,
                    province=graduation_list.province,
                )
            except ValueError as error:
                # Facts no certificate can print (a name character the fonts lack, changed at
                # enrollment since the list was submitted): left to Typst, the chunk failed
                # with no student named. Every such student of the chunk is named at once.
                refused.append(f"student {entry.student_id}: {error}")
                continue
            faces[entry.id] = (entry.student_id, face)
        if refused:
            raise ChunkUnprintable("; ".join(refused))
        return faces

    async def _photos(
        self,
        layout: PrintLayout,
        certificates: dict[str, Certificate],
        drafts: dict[str, tuple[str, CertificateFace]],
    ) -> dict[str, bytes]:
        """Item id → ID photo, fetched together (identity answers from its cache of hashes);
        none at all when the province prints an empty frame."""
        if layout.photo_mode != "id_photo":
            return {}
        students = {cid: c.student_id for cid, c in certificates.items()}
        students |= {eid: student_id for eid, (student_id, _) in drafts.items()}
        peers = peers_of(self.ctx)
        fetched = await asyncio.gather(*(peers.id_photo(s) for s in students.values()))
        return {item_id: photo for item_id, photo in zip(students, fetched, strict=True) if photo is not None}

    async def _fail(self, batch_id: str, message: str) -> None:
        async with self.ctx.sessionmaker() as session:
            batch = await session.get(PrintBatch, batch_id, with_for_update=True)
            if batch is None:
                return
            with contextlib.suppress(TransitionNotAllowed):
                batch.state = transition(BatchState(batch.state), BatchEvent.FAILED).value
                batch.error = message[:MAX_ERROR_CHARS]
                batch.finished_at = func.now()
            await session.commit()

    async def finish_batches(self) -> None:
        """Every batch whose items are all rendered: join the printer's file, mark it done."""
        while not self._stopping.is_set():
            async with self.ctx.sessionmaker() as session:
                batch = await session.scalar(
                    select(PrintBatch)
                    .where(PrintBatch.state.in_(_UNFINISHED), PrintBatch.done >= PrintBatch.total)
                    .order_by(PrintBatch.created_at)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if batch is None:
                    return
                try:
                    await join_printer_parts(
                        self.ctx.settings.certificate_output_dir,
                        batch.id,
                        math.ceil(batch.total / self.chunk_size),
                    )
                except JoinFailed as error:
                    await session.rollback()
                    await self._fail(batch.id, str(error))
                    continue
                batch.state = transition(BatchState(batch.state), BatchEvent.ALL_RENDERED).value
                batch.finished_at = func.now()
                await session.commit()


def start_print_worker(ctx: ServiceContext) -> PrintWorker:
    """Called from the service's start (startup.py); the worker stops with the service."""
    worker = PrintWorker(ctx)
    ctx.extras[WORKER_KEY] = worker
    worker.start()
    return worker


def print_worker_of(ctx: ServiceContext) -> PrintWorker | None:
    worker: PrintWorker | None = ctx.extras.get(WORKER_KEY)
    return worker
