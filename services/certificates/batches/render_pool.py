"""The rendering side of a print batch, run in worker processes.

Typst compiles on one core and holds the GIL-free Rust side only for the compile itself, but
the work around it (JSON, QR, file writes) is Python: threads would share one core. A process
pool with one warm ``CertificateRenderer`` per process (fonts loaded once, Typst's memoisation
kept between chunks) is what uses both cores (STACK.md; bench/certificates/print_bench.py
measures it). Processes are started with ``forkserver``: forking the service's own process,
with its event loop, connections and threads, is not safe.

A chunk's job carries everything to render and where to write; the process writes the files
itself (a PDF never travels back through the pipe) and answers with their sizes. Every file is
written under a temporary name and renamed into place, so a reader never sees half a file and
two processes rendering the same chunk after a restart cannot corrupt each other's output.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from services.certificates.printing.face import PrintLayout, RenderItem
from services.certificates.printing.render import CertificateRenderer

_renderer: CertificateRenderer | None = None


@dataclass(frozen=True)
class StudentFile:
    stem: str
    item: RenderItem


@dataclass(frozen=True)
class ChunkJob:
    """One chunk: per-student files into ``directory``, and the chunk's pages, in order, as one
    part of the printer's file at ``printer_part``."""

    directory: Path
    printer_part: Path
    files: tuple[StudentFile, ...]
    layout: PrintLayout
    # The service always makes both; the benchmark times each on its own.
    per_student: bool = True
    printer: bool = True


@dataclass(frozen=True)
class ChunkOutput:
    per_student_bytes: int
    printer_bytes: int
    cpu_seconds: float  # of the worker process for this chunk


def write_atomically(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    temporary.write_bytes(content)
    temporary.replace(path)


def _warm_renderer() -> CertificateRenderer:
    global _renderer
    if _renderer is None:
        _renderer = CertificateRenderer()
        # A pool process ends through multiprocessing's own exit, which skips atexit (and so
        # the renderer's weakref finaliser): without this each process left its temporary
        # directory behind.
        multiprocessing.util.Finalize(_renderer, _renderer.close, exitpriority=10)
    return _renderer


def render_chunk(job: ChunkJob) -> ChunkOutput:
    """In a worker process: the chunk's per-student files and its part of the printer's file."""
    started = time.process_time()
    renderer = _warm_renderer()
    per_student = printer = 0
    if job.per_student:
        job.directory.mkdir(parents=True, exist_ok=True)
        for student_file in job.files:
            pdf = renderer.render_one(student_file.item, job.layout)
            write_atomically(job.directory / f"{student_file.stem}.pdf", pdf)
            per_student += len(pdf)
    if job.printer:
        job.printer_part.parent.mkdir(parents=True, exist_ok=True)
        pages = renderer.render_many([f.item for f in job.files], job.layout)
        write_atomically(job.printer_part, pages)
        printer = len(pages)
    return ChunkOutput(per_student, printer, time.process_time() - started)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, which a cpuset limits; a CFS quota is not
    seen: XUEJI_CERTIFICATE_PRINT_PROCESSES says it in containers)."""
    return len(os.sched_getaffinity(0)) or 1


def render_pool(processes: int | None = None) -> ProcessPoolExecutor:
    """One process per core unless told; each warms its renderer before its first chunk."""
    return ProcessPoolExecutor(
        max_workers=processes or usable_cpus(),
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=_warm_renderer_quietly,
    )


def _warm_renderer_quietly() -> None:
    _warm_renderer()
