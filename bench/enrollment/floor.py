"""The per-request floor of one enrollment process: what any request pays before its own work.

    python -m bench.enrollment.floor [--samples 500] [--province-size 10000] [--profile DIR]

Measures, one request after another over keep-alive HTTP: GET /healthz (no auth, no database),
GET one import (token + one query), a duplicate registration (token + one indexed lookup → 409)
and a single registration (201), and the CPU the service process spent per request (all its
threads: the span export and the outbox relay included; unlike latency, this does not move with
the load of a shared machine). With ``--profile`` each phase is also sampled by py-spy
(requirements-dev.txt) into ``DIR/<phase>.txt``: collapsed stacks, and a summary of the
functions where the process spent its samples is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx

from bench.enrollment.bench import _new_class, _NewIds
from bench.enrollment.population import copy_students
from bench.enrollment.profiling import Profiler
from bench.enrollment.service import SCHOOL, RunningService, running_service
from bench.harness import cpu_seconds, p50_p99


async def _timed(n: int, request: Callable[[], Awaitable[httpx.Response]], expect: int) -> list[float]:
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        response = await request()
        latencies.append(time.perf_counter() - started)
        if response.status_code != expect:
            raise RuntimeError(f"expected {expect}, got {response.status_code}: {response.text[:300]}")
    return latencies


async def _measure(service: RunningService, samples: int, province_size: int, profile: Path | None) -> None:
    if province_size:
        await copy_students(
            service.dsn, province_size, key=service.key, class_id=f"class-{SCHOOL}-2024-1", school=SCHOOL
        )
    class_id = await _new_class(service.dsn, 2025)
    connection = await asyncpg.connect(service.dsn)
    try:
        taken = [r[0] for r in await connection.fetch("SELECT id_number FROM student LIMIT $1", samples)]
    finally:
        await connection.close()
    ids = _NewIds("410183")
    profiler = Profiler(service.pid, profile)
    headers = {"Authorization": f"Bearer {service.token}"}
    async with httpx.AsyncClient(base_url=service.base, headers=headers, timeout=60) as client:
        duplicates = iter(taken * (2 + samples // max(1, len(taken))))

        def register(number: str) -> Awaitable[httpx.Response]:
            body = {"name": "单个学生", "id_type": "resident_id", "id_number": number, "class_id": class_id}
            return client.post("/api/v1/students", json=body)

        phases: list[tuple[str, Callable[[], Awaitable[httpx.Response]], int]] = [
            ("healthz", lambda: client.get("/healthz"), 200),
            ("one-query", lambda: client.get("/api/v1/registrations/imports?limit=1"), 200),
            ("duplicate", lambda: register(next(duplicates)), 409),
            ("register", lambda: register(ids.next()), 201),
        ]
        for name, request, expect in phases:
            await _timed(min(50, samples), request, expect)  # warm-up: connections, caches
            profiler.start(name)
            cpu_before = cpu_seconds(service.pid)
            latencies = await _timed(samples, request, expect)
            await asyncio.sleep(0.5)  # the spans of the last requests are exported
            cpu = (cpu_seconds(service.pid) - cpu_before) / samples
            total = sum(latencies)
            print(
                f"{name:10s} {p50_p99(latencies)}   {samples / total:5.0f} req/s sequential   "
                f"service CPU {cpu * 1000:5.2f} ms/request",
                flush=True,
            )
            profiler.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--province-size", type=int, default=10_000, help="existing students (COPY)")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy collapsed stacks into this folder")
    parser.add_argument("--pg-socket", default=None, help="PostgreSQL over its Unix socket in this folder")
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    with running_service(pg_socket=args.pg_socket) as service:
        asyncio.run(_measure(service, args.samples, args.province_size, args.profile))


if __name__ == "__main__":
    main()
