"""Printing at volume: 10,000 certificates rendered (a) as one PDF per student and (b) as the
printer's multi-page file, on every core the way the print worker does it (a process pool, one
warm Typst renderer per process, chunks of 50, files written by the worker processes), with PDF
bytes per certificate and CPU seconds per certificate (issue 8 "What it must show"; goals on a
2-core machine: per-student ≥ 85/s, multi-page ≥ 150/s).

The faces are realistic: names with rare characters (𬌗 䶮 𠮷 …, which need the CJK font's
supplementary planes), every field filled, an 18-digit ID number, a ~280-character QR URL, and a
~30 KB JPEG photo cut from the shared portraits, made unique per student (a JPEG comment) so
neither Typst's memo nor the PDF writer can share one student's photo with the next.

Beside them, in the same run, a floor: a trivial one-page Typst document compiled again and
again in this process (one core). On a noisy machine read the results as a ratio to it.

What is not measured: reading faces and rows from PostgreSQL and fetching photos from identity
(the worker does that on its event loop while the pool renders; tests/integration cover it).

``python -m bench.certificates print [--count N] [--processes N] [--chunk N] [--service-chunks]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import typst
from PIL import Image

from services.certificates.batches.files import join_printer_parts, printer_part
from services.certificates.batches.render_pool import (
    ChunkJob,
    ChunkOutput,
    StudentFile,
    render_chunk,
    render_pool,
)
from services.certificates.printing.coverage import NOTO_CJK_DIR
from services.certificates.printing.face import CertificateFace, PrintLayout, RenderItem
from shared.events.certificates import GraduationOutcome

FACES = Path("/work/shared/data/faces")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗欧阳司马诸葛"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红"
# Characters beyond the BMP or in CJK Extension A–G that 中职 records do contain (STACK.md).
# Not 𪚥 (U+2A6A5): Noto Serif CJK SC lacks it and the renderer refuses the page (reported).
RARE = [
    "𬌗",
    "䶮",
    "𠮷",
    "𬀩",
    "𫖮",
    "𬭎",
    "犇",
    "燚",
    "龘",
    "堃",
    "喆",
    "玥",
    "珺",
    "彧",
    "𬘡",
    "𬞟",
    "𫗧",
]
MAJORS = [
    ("计算机应用", "网络技术"),
    ("电子商务", None),
    ("汽车运用与维修", "新能源汽车"),
    ("数控技术应用", "多轴加工"),
    ("会计事务", None),
    ("护理", "老年护理"),
    ("学前教育", None),
    ("机电技术应用", "工业机器人"),
]
SCHOOLS = ["郑州市信息技术中等职业学校", "洛阳市第一职业高级中学", "开封市文化艺术职业中等专业学校"]
# Mostly 毕业, a few 结业 and 肄业 (each has its own wording on the face).
OUTCOMES: tuple[GraduationOutcome, ...] = ("graduated",) * 18 + ("completed", "left_without_completing")
PHOTO_SIZE = (330, 480)
PHOTO_TARGET_BYTES = 30_000


def _say(line: str) -> None:
    print(line, flush=True)


# --- realistic data ---------------------------------------------------------------------------------


def base_photos() -> list[bytes]:
    """~30 KB JPEGs (the accepted ID photo's size) from the single-person portraits."""
    photos = []
    for source in sorted(FACES.glob("*/*")):
        if source.parent.name in ("multi",) or source.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        with Image.open(source) as image:
            portrait = image.convert("RGB").resize(PHOTO_SIZE)
        for quality in (92, 88, 85, 80, 75, 70, 60):
            out = io.BytesIO()
            portrait.save(out, "JPEG", quality=quality)
            if out.tell() <= PHOTO_TARGET_BYTES * 1.15:
                break
        photos.append(out.getvalue())
    if not photos:
        raise SystemExit(f"no portraits under {FACES}")
    return photos


def unique_photo(photo: bytes, serial: int) -> bytes:
    """The same picture with a JPEG comment (COM) naming the student: different bytes, same
    decoding cost, so nothing downstream may treat two students' photos as one."""
    comment = f"student {serial}".encode()
    segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
    return photo[:2] + segment + photo[2:]


def id_number(rng: random.Random, birth: date) -> str:
    body = f"4101{rng.randint(0, 99):02d}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def name(rng: random.Random) -> str:
    surname = rng.choice(["欧阳", "司马", "诸葛"]) if rng.random() < 0.05 else rng.choice(SURNAMES[:20])
    given = rng.choice(RARE) if rng.random() < 0.5 else rng.choice(GIVEN)
    return surname + given + (rng.choice(GIVEN) if rng.random() < 0.6 else "")


def face(rng: random.Random, serial: int) -> CertificateFace:
    birth = date(2008 + rng.randint(0, 2), rng.randint(1, 12), rng.randint(1, 28))
    major, direction = rng.choice(MAJORS)
    length = rng.choice([3.0, 3.0, 3.0, 2.5, 2.0])
    start = date(2027 - int(length + 0.5), 9, 1)
    return CertificateFace(
        kind="graduation",
        number=f"2027-410102-41010200{serial % 100:02d}-{serial:07d}-{rng.randint(10, 99)}",
        name=name(rng),
        sex=rng.choice(["M", "F"]),
        birth_date=birth,
        id_number=id_number(rng, birth),
        study_start=start,
        study_end=date(2027, 6, 30),
        major_name=major,
        skill_direction=direction,
        study_length=length,
        study_form=rng.choice(["full_time", "full_time", "part_time"]),
        outcome=rng.choice(OUTCOMES),
        school_name=rng.choice(SCHOOLS),
        issued_on=date(2027, 6, 11),
        issuer="河南省教育厅",
    )


def qr_text(rng: random.Random) -> str:
    payload = base64.b32encode(rng.randbytes(156)).decode().rstrip("=")
    return f"HTTPS://VERIFY.XUEJI.EXAMPLE/C/{payload}"


@dataclass(frozen=True)
class Workload:
    count: int
    chunk: int
    photos: list[bytes]
    seed: int = 2027

    def chunks(self, out: Path, *, per_student: bool, printer: bool) -> Iterator[ChunkJob]:
        """The same certificates every time they are asked for (seeded), chunk by chunk, built
        lazily: 10,000 photos held at once would be 300 MB."""
        rng = random.Random(self.seed)
        layout = PrintLayout(draft=False)
        for chunk, start in enumerate(range(0, self.count, self.chunk)):
            files = []
            for serial in range(start, min(start + self.chunk, self.count)):
                certificate = face(rng, serial)
                photo = unique_photo(self.photos[serial % len(self.photos)], serial)
                item = RenderItem(certificate, qr_text(rng), photo)
                files.append(StudentFile(certificate.number, item))
            yield ChunkJob(
                out, printer_part(out.parent, out.name, chunk), tuple(files), layout, per_student, printer
            )


# --- running ----------------------------------------------------------------------------------------


@dataclass
class Run:
    certificates: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    per_student_bytes: int = 0
    printer_bytes: int = 0


def run_jobs(pool: ProcessPoolExecutor, jobs: Iterator[ChunkJob], in_flight: int) -> Run:
    """Every job through the pool with at most ``in_flight`` queued, as the worker's lanes keep
    one chunk per process busy (two here, so a process never waits for the next chunk)."""
    run = Run()
    pending: dict[Future[ChunkOutput], int] = {}
    started = time.perf_counter()

    def collect(done: set[Future[ChunkOutput]]) -> None:
        for future in done:
            output = future.result()
            run.certificates += pending.pop(future)
            run.cpu_seconds += output.cpu_seconds
            run.per_student_bytes += output.per_student_bytes
            run.printer_bytes += output.printer_bytes

    for job in jobs:
        while len(pending) >= in_flight:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            collect(done)
        pending[pool.submit(render_chunk, job)] = len(job.files)
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        collect(done)
    run.seconds = time.perf_counter() - started
    return run


def trivial_floor(seconds: float = 3.0) -> float:
    """One-page compiles/s of a trivial Typst document (one CJK line, same fonts) in this
    process: the machine's speed at Typst today, to read the results against."""
    with tempfile.TemporaryDirectory(prefix="xueji-floor-") as root:
        template = Path(root) / "floor.typ"
        template.write_text(
            '#set text(font: "Noto Serif CJK SC")\n#sys.inputs.at("n") 中等职业学校毕业证书\n',
            encoding="utf-8",
        )
        fonts = typst.Fonts(
            include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(NOTO_CJK_DIR)]
        )
        compiler = typst.Compiler(input=str(template), root=root, font_paths=fonts)
        compiler.compile(sys_inputs={"n": "0"})
        done = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            compiler.compile(sys_inputs={"n": str(done)})
            done += 1
        return done / (time.perf_counter() - started)


def report(label: str, run: Run, processes: int, floor: float, goal: float, file_bytes: int) -> None:
    """Wall-clock rate (what a user waits for) and the CPU the render processes spent, which
    says what the same work reaches on ``processes`` cores nobody else is using."""
    rate = run.certificates / run.seconds
    cpu = run.cpu_seconds / run.certificates
    verdict = "meets" if rate >= goal else "BELOW"
    _say(
        f"{label}: {run.certificates} in {run.seconds:.1f} s = {rate:.1f} certificates/s on {processes} "
        f"processes ({verdict} the goal of {goal:.0f}/s), {rate / floor:.3f}× the floor\n"
        f"    {file_bytes / run.certificates / 1024:.1f} KB PDF per certificate; {cpu * 1000:.1f} ms CPU per "
        f"certificate in the render processes = {processes / cpu:.0f}/s on {processes} idle cores"
    )


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates print", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="certificates (10,000)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="render processes (cores)")
    parser.add_argument("--chunk", type=int, default=50, help="certificates per job / printer part (50)")
    parser.add_argument(
        "--service-chunks", action="store_true", help="also time the worker's full chunk (both files at once)"
    )
    parser.add_argument(
        "--keep", type=Path, help="write the files here and keep them (default: a temporary dir)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _arguments(sys.argv[2:] if argv is None else argv)
    out = args.keep or Path(tempfile.mkdtemp(prefix="xueji-print-bench-"))
    workload = Workload(args.count, args.chunk, base_photos())
    photo_sizes = sorted(len(p) for p in workload.photos)
    _say(
        f"{args.count} realistic certificates, chunks of {args.chunk}, {args.processes} render processes; "
        f"photos {photo_sizes[0] // 1024}–{photo_sizes[-1] // 1024} KB JPEG; files under {out}"
    )
    floor = trivial_floor()
    _say(f"floor: a trivial one-page Typst document, 1 process: {floor:.0f} compiles/s")
    try:
        with render_pool(args.processes) as pool:
            # Warm every process (fonts, Typst's memo): the service's renderers stay warm.
            warm = Workload(args.processes * 2, 1, workload.photos, seed=1)
            run_jobs(pool, warm.chunks(out / "warm", per_student=True, printer=True), args.processes * 2)

            students = run_jobs(
                pool, workload.chunks(out / "students", per_student=True, printer=False), args.processes * 2
            )
            report("(a) per-student files", students, args.processes, floor, 85, students.per_student_bytes)

            printer = run_jobs(
                pool, workload.chunks(out / "printer", per_student=False, printer=True), args.processes * 2
            )
            chunks = -(-args.count // args.chunk)
            started = time.perf_counter()
            joined = asyncio.run(join_printer_parts(out, "printer", chunks))
            join_seconds = time.perf_counter() - started
            report("(b) printer's file (parts)", printer, args.processes, floor, 150, printer.printer_bytes)
            printer.seconds += join_seconds
            report("(b) printer's file, joined", printer, args.processes, floor, 150, joined)
            _say(
                f"    joining {chunks} parts with qpdf: {join_seconds:.2f} s, "
                f"one file of {joined / 2**20:.1f} MB"
            )

            if args.service_chunks:
                both = run_jobs(
                    pool, workload.chunks(out / "service", per_student=True, printer=True), args.processes * 2
                )
                report(
                    "(c) the worker's chunk (both)",
                    both,
                    args.processes,
                    floor,
                    1 / (1 / 85 + 1 / 150),
                    both.per_student_bytes + both.printer_bytes,
                )
        _say(f"floor again at the end: {trivial_floor():.0f} compiles/s (the machine's noise over the run)")
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
