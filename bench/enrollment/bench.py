"""Registration at province scale, through the real enrollment service (a separate process,
over HTTP, on the real PostgreSQL and RabbitMQ):

1. a fresh database and virtual host; the service starts, migrates and seeds Henan's tree;
2. ``--province-size`` existing students are written with COPY (default 1,000,000);
3. a 10,000-row class workbook is uploaded and timed until the import is done (rows/s);
4. single registrations (POST /api/v1/students) one after another: p50/p99;
5. the same row as a plain INSERT on the same database in the same run: the floor;
6. the duplicate lookup at the API (a registration of an ID already there, answered 409), and
   the in-province dedupe query alone: p99.

Goals (issue 3): import of 10,000 rows < 15 s; single registration p99 < 50 ms; duplicate
lookup p99 < 10 ms. The figures are printed as measured, never shrunk to meet them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.enrollment.population import copy_students
from bench.enrollment.profiling import Profiler
from bench.enrollment.service import SCHOOL, RunningService, running_service
from bench.harness import cpu_seconds, p50_p99
from services.enrollment.imports.template import filled_workbook
from shared.idnumber import make_resident_id

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Through the partial index of unpublished rows: a count(*) every 0.2 s scanned the whole outbox
# (200,000 rows after a 100,000-row import) and took CPU from the service being measured.
_UNPUBLISHED = "SELECT EXISTS (SELECT 1 FROM outbox_message WHERE published_at IS NULL)"


class _NewIds:
    """Fresh IDs for new students: counties the existing population does not use."""

    def __init__(self, county: str) -> None:
        self.county = county
        self.n = 0

    def next(self) -> str:
        day, seq = divmod(self.n, 1000)
        self.n += 1
        return make_resident_id(
            self.county, date(2010, 1, 1).fromordinal(date(2010, 1, 1).toordinal() + day % 240), seq
        )


async def _new_class(dsn: str, grade: int) -> str:
    class_id = f"bench-{uuid.uuid4().hex[:10]}"
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO school_class (id, school_code, name, grade, major_code) "
            "VALUES ($1, $2, $3, $4, '710201')",
            class_id, SCHOOL, class_id, grade,
        )  # fmt: skip
    finally:
        await connection.close()
    return class_id


async def _import(
    client: httpx.AsyncClient, dsn: str, rows: int, ids: _NewIds, profiler: Profiler | None = None
) -> tuple[float, dict[str, Any]]:
    class_id = await _new_class(dsn, 2025)
    content = filled_workbook(
        "resident_id",
        [{"姓名": "导入学生", "身份证号": ids.next(), "学制": 3, "学习形式": "全日制"} for _ in range(rows)],
    )
    if profiler is not None:
        profiler.start("import")
    started = time.perf_counter()
    response = await client.post(
        "/api/v1/registrations/imports",
        files={"file": ("bench.xlsx", content, XLSX)},
        data={"class_id": class_id},
    )
    response.raise_for_status()
    import_id = response.json()["id"]
    read_at: float | None = None
    while True:
        progress: dict[str, Any] = (await client.get(f"/api/v1/registrations/imports/{import_id}")).json()
        if read_at is None and progress.get("total") is not None:
            read_at = time.perf_counter()
            print(
                f"  the file's rows were read and stored {read_at - started:.1f} s after upload", flush=True
            )
        if progress["status"] == "done":
            elapsed = time.perf_counter() - started
            if profiler is not None:
                profiler.stop()
            return elapsed, progress
        await asyncio.sleep(0.1)


async def _outbox_drained(dsn: str) -> float:
    """Latencies are taken once the relay has published the import's events: a backlog being
    published in the same process would be measured as registration time."""
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        while True:
            if not await connection.fetchval(_UNPUBLISHED):
                break
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    return time.perf_counter() - started


async def _gets(client: httpx.AsyncClient, path: str, n: int) -> list[float]:
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        (await client.get(path)).raise_for_status()
        latencies.append(time.perf_counter() - started)
    return latencies


async def _singles(client: httpx.AsyncClient, n: int, ids: _NewIds, class_id: str) -> list[float]:
    latencies = []
    for _ in range(n):
        body = {"name": "单个学生", "id_type": "resident_id", "id_number": ids.next(), "class_id": class_id}
        started = time.perf_counter()
        response = await client.post("/api/v1/students", json=body)
        latencies.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise RuntimeError(f"registration failed: {response.status_code} {response.text[:300]}")
    return latencies


async def _plain_inserts(dsn: str, n: int, ids: _NewIds, class_id: str) -> list[float]:
    connection = await asyncpg.connect(dsn)
    latencies = []
    try:
        for _ in range(n):
            number = ids.next()
            started = time.perf_counter()
            await connection.execute(
                """INSERT INTO student (id, student_number, name, sex, birth_date, id_type, id_number,
                province_code, city_code, county_code, school_code, class_id, major_code, grade,
                study_length, study_form, status, frozen)
                VALUES ($1, $2, '单个学生', 'M', '2010-01-01', 'resident_id', $3, '41', '4101', '410102',
                $4, $5, '710201', 2025, 3, 'full_time', 'in_school', false)""",
                str(uuid.uuid4()), "G" + number, number, SCHOOL, class_id,
            )  # fmt: skip
            latencies.append(time.perf_counter() - started)
    finally:
        await connection.close()
    return latencies


async def _duplicates(
    client: httpx.AsyncClient, dsn: str, n: int, class_id: str
) -> tuple[list[float], list[float]]:
    connection = await asyncpg.connect(dsn)
    try:
        taken = [
            r["id_number"]
            for r in await connection.fetch("SELECT id_number FROM student ORDER BY random() LIMIT $1", n)
        ]
        query_latencies = []
        for number in taken:
            started = time.perf_counter()
            await connection.fetch(
                "SELECT id_number, student_number FROM student WHERE student_number = $1 "
                "OR (id_number = $2 AND status NOT IN ('transferred_out'))",
                "G" + number, number,
            )  # fmt: skip
            query_latencies.append(time.perf_counter() - started)
    finally:
        await connection.close()
    api_latencies = []
    for number in taken:
        body = {"name": "重复学生", "id_type": "resident_id", "id_number": number, "class_id": class_id}
        started = time.perf_counter()
        response = await client.post("/api/v1/students", json=body)
        api_latencies.append(time.perf_counter() - started)
        if response.status_code not in (409, 422):
            raise RuntimeError(
                f"expected 409 for a duplicate, got {response.status_code}: {response.text[:300]}"
            )
    return api_latencies, query_latencies


def run(province_size: int, import_rows: int, samples: int, batch_rows: int, profile: Path | None) -> None:
    with running_service(batch_rows=batch_rows) as service:
        asyncio.run(_measure(service, province_size, import_rows, samples, profile))


async def _measure(
    service: RunningService, province_size: int, import_rows: int, samples: int, profile: Path | None
) -> None:
    profiler = Profiler(service.pid, profile)
    base, token, dsn, key = service.base, service.token, service.dsn, service.key
    print(f"province size {province_size:,}: writing the existing students with COPY …", flush=True)
    seconds = await copy_students(
        dsn, province_size, key=key, class_id=f"class-{SCHOOL}-2024-1", school=SCHOOL
    )
    print(f"  {province_size:,} students in {seconds:.1f} s", flush=True)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        ids = _NewIds("410183")
        cpu_before = cpu_seconds(service.pid)
        elapsed, progress = await _import(client, dsn, import_rows, ids, profiler)
        cpu = cpu_seconds(service.pid) - cpu_before
        print(
            f"import of {import_rows:,} rows, upload → done: {elapsed:.2f} s = "
            f"{import_rows / elapsed:,.0f} rows/s ({progress['registered']:,} registered, "
            f"{progress['failed']:,} failed)   goal: < 15 s for 10,000",
            flush=True,
        )
        print(f"  service CPU during the import: {cpu:.1f} s", flush=True)
        drained = await _outbox_drained(dsn)
        print(f"  the relay published the import's events {drained:.1f} s after it finished", flush=True)
        class_id = await _new_class(dsn, 2025)
        await _singles(client, 20, ids, class_id)  # warm-up: connections, caches
        singles = await _singles(client, samples, ids, class_id)
        print(f"single registration (API, {samples}):     {p50_p99(singles)}   goal: p99 < 50 ms", flush=True)
        inserts = await _plain_inserts(dsn, samples, _NewIds("410184"), class_id)
        print(f"plain INSERT of the same row (floor):  {p50_p99(inserts)}", flush=True)
        health = await _gets(client, "/healthz", samples)
        print(f"GET /healthz (HTTP floor of the process): {p50_p99(health)}", flush=True)
        listing = await _gets(client, "/api/v1/registrations/imports?limit=1", samples)
        print(f"GET one import (token + one query):    {p50_p99(listing)}", flush=True)
        api, query = await _duplicates(client, dsn, samples, class_id)
        print(f"duplicate lookup at the API (409):     {p50_p99(api)}   goal: p99 < 10 ms", flush=True)
        print(f"duplicate lookup, the query alone:     {p50_p99(query)}", flush=True)
        print(f"  (mean API registration {statistics.mean(singles) * 1000:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--province-size", type=int, default=1_000_000, help="existing students (COPY)")
    parser.add_argument("--import-rows", type=int, default=10_000, help="rows of the timed workbook")
    parser.add_argument("--samples", type=int, default=300, help="requests per latency figure")
    parser.add_argument(
        "--import-batch-rows",
        type=int,
        default=500,
        help="rows per transaction (1 = one unit of work per row)",
    )
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy samples of the import into DIR/import.txt"
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(f"import: {args.import_batch_rows} rows per transaction", flush=True)
    run(args.province_size, args.import_rows, args.samples, args.import_batch_rows, args.profile)
