"""``make bench-checkin``: one province's peak hour of check-ins, through the real check-in
service (separate processes, over HTTP, on the real PostgreSQL, RabbitMQ and Redis).

(a) Scale: ``--students`` (default 100,000) across ``--schools`` (50), an open round whose
    face-check policy is a 1 % sample plus every suspicious attempt; every student checks in
    once with a real JPEG selfie, from ``--clients`` concurrent connections. Printed: accepted
    check-ins/s, p50/p99 accept latency, the backlog over time, finished check-ins/s, p50/p99
    from accept to result — and the floor measured in the same run (a bare INSERT plus a bare
    publish of the same data, same concurrency) with the ratio accepted/floor.
(b) Faces: ``--face-check-ins`` (2,000) check-ins in a round that checks every face, verified
    by ``--face-workers`` real face worker processes against sealed templates.

Once the queues drain, every accepted check-in must be decided exactly once: counted from the
database and from the ``checkin.check_in.decided`` events on a queue of the bench's own.
Goals (issue 5): ≥ 2,000 accepted/s with p99 < 200 ms on this 2-core machine, accepted/floor
≥ 0.5. Figures are printed as measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import asyncpg

from bench.checkin.faces import descriptors, enrol_templates, migrate_identity
from bench.checkin.floor import floor_rate
from bench.checkin.load import BlastResult, Position, PreparedCheckIn, blast, fetch_nonces, signed_check_in
from bench.checkin.monitor import Monitor
from bench.checkin.population import (
    BenchStudent,
    campus_centre,
    make_students,
    open_round,
    write_population,
)
from bench.checkin.selfies import phone_jpegs, unique_copy
from bench.harness import Jwks, base_env, cpu_seconds, jwks_stand_in, p50_p99, running_process, wait_ready
from services.checkin.domain.gcj02 import wgs84_to_gcj02
from shared.auth import Principal, Role
from shared.testing import free_port, temporary_database, temporary_vhost

DECIDED_QUEUE = "bench.decided"


@dataclass(frozen=True)
class Province:
    bases: list[str]
    dsn: str
    amqp_url: str
    identity_database_url: str
    work: Path
    service_token: str
    jwks: Jwks
    pids: list[int]


def _token(jwks: Jwks, student: BenchStudent) -> str:
    return jwks.issuer.issue(
        Principal(
            account_id=f"acct-{student.student_id}",
            username=student.student_id,
            role=Role.STUDENT,
            org=student.school_code,
            province="41",
            student_id=student.student_id,
        )
    )


def _position(student: BenchStudent, rng: random.Random) -> Position:
    """Most phones inside their campus; some report GCJ-02 (AMap, WeChat); a few are elsewhere."""
    lat, lon = campus_centre(int(student.school_code[-5:]))
    lat += rng.uniform(-0.001, 0.001)
    lon += rng.uniform(-0.001, 0.001)
    roll = rng.random()
    if roll < 0.05:
        return Position(lat + 0.05, lon, 15.0, "WGS-84")  # 5 km away: off campus
    if roll < 0.35:
        g_lat, g_lon = wgs84_to_gcj02(lat, lon)
        return Position(g_lat, g_lon, 12.0, "GCJ-02")
    return Position(lat, lon, 10.0, "WGS-84")


async def _declare_decided_queue(amqp_url: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(DECIDED_QUEUE, durable=True, arguments={"x-queue-type": "quorum"})
        await queue.bind("xueji.events", routing_key="checkin.check_in.decided")
    finally:
        await connection.close()


async def _decided_events(amqp_url: str) -> tuple[int, int]:
    """(events, distinct check-ins) on the bench's queue of decisions."""
    connection = await aio_pika.connect(amqp_url)
    seen: dict[str, int] = {}
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(DECIDED_QUEUE, passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            check_in_id = json.loads(message.body)["data"]["check_in_id"]
            seen[check_in_id] = seen.get(check_in_id, 0) + 1
    finally:
        await connection.close()
    return sum(seen.values()), len(seen)


async def _wait_drained(dsn: str, round_id: str, accepted: int, give_up_after: float) -> float:
    started = time.perf_counter()
    connection = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() - started < give_up_after:
            row = await connection.fetchrow(
                "SELECT (SELECT count(*) FROM check_in WHERE round_id = $1 AND state = 'decided') AS decided,"
                " "
                "(SELECT count(*) FROM outbox_message WHERE published_at IS NULL) AS outbox",
                uuid.UUID(round_id),
            )
            assert row is not None
            if row["decided"] >= accepted and row["outbox"] == 0:
                break
            await asyncio.sleep(0.5)
    finally:
        await connection.close()
    return time.perf_counter() - started


async def _result_latencies(dsn: str, round_id: str) -> tuple[list[float], float, dict[str, int], int]:
    """Accept → result per check-in, finished check-ins/s over the round, results, decided count."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT received_at, decided_at, result FROM check_in WHERE round_id = $1 AND state = 'decided'",
            uuid.UUID(round_id),
        )
    finally:
        await connection.close()
    if not rows:
        return [], 0.0, {}, 0
    latencies = [(r["decided_at"] - r["received_at"]).total_seconds() for r in rows]
    span = (max(r["decided_at"] for r in rows) - min(r["received_at"] for r in rows)).total_seconds()
    results: dict[str, int] = {}
    for r in rows:
        results[r["result"]] = results.get(r["result"], 0) + 1
    return latencies, len(rows) / max(span, 1e-9), results, len(rows)


async def _prepare(
    province: Province,
    students: list[BenchStudent],
    round_id: str,
    selfie_of: dict[str, bytes],
    concurrency: int,
) -> tuple[list[PreparedCheckIn], float]:
    tokens = {s.student_id: _token(province.jwks, s) for s in students}
    nonces, challenge_rate = await fetch_nonces(province.bases, round_id, tokens, concurrency)
    rng = random.Random(7)
    prepared = [
        PreparedCheckIn(
            s.student_id,
            tokens[s.student_id],
            signed_check_in(
                round_id=round_id,
                nonce=nonces[s.student_id],
                position=_position(s, rng),
                device_id=f"phone-{s.student_id}",
                selfie=selfie_of[s.student_id],
                key=s.key,
            ),
        )
        for s in students
    ]
    return prepared, challenge_rate


def _cpu_seconds(pids: list[int]) -> float:
    """CPU (user + system) the check-in processes have used so far."""
    return sum(map(cpu_seconds, pids))


def _report_blast(
    label: str, result: BlastResult, floor: float | None, cpu_seconds: float | None = None
) -> None:
    print(f"\n[{label}] sent {sum(result.statuses.values()):,}: statuses {result.statuses}")
    for error in result.errors:
        print(f"  refused: {error}")
    rate = result.accepted_per_second
    print(f"  accepted check-ins/s   {rate:8.0f}   (goal ≥ 2,000)")
    print(f"  accept latency         {p50_p99(result.latencies)}   (goal p99 < 200 ms)")
    if cpu_seconds is not None and result.accepted_ids:
        print(
            f"  service CPU            {cpu_seconds * 1000 / len(result.accepted_ids):8.2f} ms per accepted "
            f"check-in ({cpu_seconds:.1f} s over {result.finished - result.started:.1f} s, all processes)"
        )
    if floor is not None:
        print(
            f"  floor (INSERT+publish) {floor:8.0f}/s   ratio accepted/floor {rate / floor:.2f} (goal ≥ 0.5)"
        )


async def _scale_part(province: Province, args: argparse.Namespace, photos: dict[str, list[bytes]]) -> None:
    print(f"\n(a) scale: {args.students:,} students in {args.schools} schools, 1 % face sample", flush=True)
    students = make_students(args.students, args.schools)
    seconds = await write_population(province.dsn, students, args.schools)
    print(f"  roster, campuses and device keys written in {seconds:.1f} s", flush=True)
    round_id = await open_round(province.dsn, face_policy="sampled", sample_rate=args.sample)
    await _declare_decided_queue(province.amqp_url)
    flat = [blob for blobs in photos.values() for blob in blobs]
    selfie_of = {s.student_id: unique_copy(flat[n % len(flat)], s.student_id) for n, s in enumerate(students)}
    started = time.perf_counter()
    prepared, challenge_rate = await _prepare(province, students, round_id, selfie_of, args.clients)
    del selfie_of
    print(
        f"  challenges fetched at {challenge_rate:.0f}/s; {len(prepared):,} signed check-ins prepared "
        f"in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    monitor = Monitor(province.dsn, province.amqp_url)
    clock = time.perf_counter()
    watching = asyncio.create_task(monitor.run(clock))
    cpu_before = _cpu_seconds(province.pids)
    result = await blast(province.bases, prepared, args.clients)
    cpu_used = _cpu_seconds(province.pids) - cpu_before
    del prepared
    drained = await _wait_drained(province.dsn, round_id, len(result.accepted_ids), args.drain_timeout)
    monitor.stop()
    await watching
    floor = await floor_rate(
        province.dsn, province.amqp_url, round_id, min(args.students, 20_000), args.clients
    )
    _report_blast("scale", result, floor, cpu_used)
    await _report_results(province, round_id, result, drained, monitor)


async def _report_results(
    province: Province, round_id: str, result: BlastResult, drained: float, monitor: Monitor
) -> None:
    latencies, finished_rate, results, decided = await _result_latencies(province.dsn, round_id)
    events, distinct = await _decided_events(province.amqp_url)
    print(f"  drained {drained:.1f} s after the last request")
    print(f"  finished check-ins/s   {finished_rate:8.0f}")
    print(f"  accept → result        {p50_p99(latencies)}")
    print(f"  results {results}")
    print(
        f"  exactly once: accepted {len(result.accepted_ids):,}, decided rows {decided:,}, "
        f"decided events {events:,} for {distinct:,} distinct check-ins "
        f"({'OK' if decided == distinct == events == len(result.accepted_ids) else 'MISMATCH'})"
    )
    print("  backlog over time:")
    print(monitor.table(every=max(1, len(monitor.samples) // 25)))


def _start_face_workers(province: Province, count: int, stack: ExitStack) -> None:
    """Identity's real face workers on the province's broker; in part (a) they answer the
    sampled checks (no template enrolled: decided on the other signals), in part (b) all."""
    migrate_identity(province.identity_database_url)
    for n in range(count):
        env = base_env(
            province.identity_database_url,
            province.amqp_url,
            province.jwks.url,
            province.work,
            service="identity",
            face_key_file=province.work / "face-templates.json",
            service_token=province.service_token,
        )
        log = province.work / f"face-worker{n}.log"
        stack.enter_context(running_process("services.identity.face_worker", env, log))
    time.sleep(15)  # the workers load their models and declare their queue before check-ins flow


async def _face_part(province: Province, args: argparse.Namespace, photos: dict[str, list[bytes]]) -> None:
    count = args.face_check_ins
    print(
        f"\n(b) faces: {count:,} check-ins, every face checked by {args.face_workers} face worker processes"
    )
    templates = descriptors(photos)
    people = sorted(templates)
    students = make_students(count, args.schools)
    students = [BenchStudent("face-" + s.student_id, s.school_code, s.key) for s in students]
    await write_population(province.dsn, students, args.schools)  # campuses: once, whichever part runs
    await _declare_decided_queue(province.amqp_url)
    person_of = {s.student_id: people[n % len(people)] for n, s in enumerate(students)}
    await enrol_templates(
        province.identity_database_url,
        province.work / "face-templates.json",
        [(s.student_id, s.school_code, person_of[s.student_id]) for s in students],
        templates,
    )
    round_id = await open_round(province.dsn, face_policy="every", sample_rate=1.0)

    def selfie(s: BenchStudent) -> bytes:
        blobs = photos[person_of[s.student_id]]
        return unique_copy(blobs[min(1, len(blobs) - 1)], s.student_id)  # not the enrolment photo

    prepared, _ = await _prepare(
        province, students, round_id, {s.student_id: selfie(s) for s in students}, 32
    )
    monitor = Monitor(province.dsn, province.amqp_url)
    clock = time.perf_counter()
    watching = asyncio.create_task(monitor.run(clock))
    result = await blast(province.bases, prepared, 32)
    drained = await _wait_drained(province.dsn, round_id, len(result.accepted_ids), args.drain_timeout)
    monitor.stop()
    await watching
    _report_blast("faces", result, None)
    print(f"  face worker processes  {args.face_workers}")
    await _report_results(province, round_id, result, drained, monitor)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--schools", type=int, default=50)
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections")
    parser.add_argument("--processes", type=int, default=2, help="check-in service processes")
    parser.add_argument("--sample", type=float, default=0.01, help="face-check sample in part (a)")
    parser.add_argument("--face-check-ins", type=int, default=2_000)
    parser.add_argument("--face-workers", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=1800)
    parser.add_argument("--skip", choices=["scale", "faces"], action="append", default=[])
    args = parser.parse_args()
    photos = phone_jpegs()
    work = Path(tempfile.mkdtemp(prefix="xueji-bench-checkin-"))
    token = secrets.token_hex(16)
    with ExitStack() as stack:
        jwks = stack.enter_context(jwks_stand_in())
        database_url = stack.enter_context(temporary_database())
        identity_database_url = stack.enter_context(temporary_database())
        amqp_url = stack.enter_context(temporary_vhost())
        ports = [free_port() for _ in range(args.processes)]
        pids: list[int] = []
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for n, port in enumerate(ports):
            env = base_env(
                database_url,
                amqp_url,
                jwks.url,
                work,
                service="checkin",
                http_port=port,
                service_token=token,
                checkin_internal_url=bases[n],
                checkin_opens="00:00",
                checkin_closes="23:59:59",
            )
            process = stack.enter_context(running_process("services.checkin", env, work / f"checkin{n}.log"))
            pids.append(process.pid)
            wait_ready(bases[n], process, work / f"checkin{n}.log")
        province = Province(
            bases, database_url.replace("postgresql+asyncpg", "postgresql"), amqp_url, identity_database_url,
            work, token, jwks, pids,
        )  # fmt: skip
        print(f"check-in processes: {args.processes} ({', '.join(bases)}); logs in {work}", flush=True)
        _start_face_workers(province, args.face_workers, stack)
        if "scale" not in args.skip:
            asyncio.run(_scale_part(province, args, photos))
        if "faces" not in args.skip:
            asyncio.run(_face_part(province, args, photos))
