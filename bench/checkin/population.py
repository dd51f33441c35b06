"""A province's check-in side at peak scale, written with COPY: students in ``schools`` schools
(the roster check-in keeps from enrollment's events), one campus per school, each student's
device key, and one open round."""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROVINCE, CITY, COUNTY = "41", "4101", "410102"
GRADES = [2024, 2025, 2026]
# Campuses are 600 m squares on a grid around Zhengzhou, drawn in WGS-84.
ORIGIN_LAT, ORIGIN_LON = 34.70, 113.50
SIDE_DEG_LAT = 600 / 111_000
SPACING_DEG = 0.02


@dataclass(frozen=True)
class BenchStudent:
    student_id: str
    school_code: str
    key: Ed25519PrivateKey


def school_code(index: int) -> str:
    return f"41410{index:05d}"


def campus_centre(index: int) -> tuple[float, float]:
    row, col = divmod(index, 10)
    return ORIGIN_LAT + row * SPACING_DEG, ORIGIN_LON + col * SPACING_DEG


def _square(lat: float, lon: float) -> dict[str, object]:
    half_lat = SIDE_DEG_LAT / 2
    half_lon = half_lat / 0.822  # cos(34.7°): the same 600 m east-west
    ring = [
        [lon - half_lon, lat - half_lat],
        [lon + half_lon, lat - half_lat],
        [lon + half_lon, lat + half_lat],
        [lon - half_lon, lat + half_lat],
        [lon - half_lon, lat - half_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def make_students(count: int, schools: int) -> list[BenchStudent]:
    return [
        BenchStudent(f"bench-{n:07d}", school_code(n % schools), Ed25519PrivateKey.generate())
        for n in range(count)
    ]


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


async def write_population(dsn: str, students: list[BenchStudent], schools: int) -> float:
    """Roster, campuses and device keys; returns the seconds it took."""

    started = time.perf_counter()
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    try:
        roster = io.BytesIO()
        for n, student in enumerate(students):
            grade = GRADES[n % len(GRADES)]
            roster.write(
                "\t".join(
                    [
                        student.student_id, "G" + student.student_id, f"学生{n}", "4101**********0000",
                        PROVINCE, CITY, COUNTY, student.school_code, f"学校{student.school_code[-3:]}",
                        f"class-{student.school_code}-{grade}", str(grade), "710201", "3", "full_time",
                        "in_school",
                        now.isoformat(),
                    ]
                ).encode()
                + b"\n"
            )  # fmt: skip
        roster.seek(0)
        await connection.copy_to_table(
            "student_view",
            source=roster,
            columns=[
                "student_id", "student_number", "name", "id_number_masked", "province_code", "city_code",
                "county_code", "school_code", "school_name", "class_id", "grade", "major_code",
                "study_length", "study_form", "status", "updated_at",
            ],
        )  # fmt: skip
        await connection.copy_records_to_table(
            "device_key_view",
            records=[(s.student_id, _raw_public(s.key), now) for s in students],
            columns=["student_id", "public_key", "registered_at"],
        )
        await connection.executemany(
            "INSERT INTO campus_view (campus_id, school_code, name, crs, boundary) "
            "VALUES ($1, $2, $3, 'WGS-84', $4) ON CONFLICT (campus_id) DO NOTHING",
            [
                (
                    f"campus-{school_code(i)}",
                    school_code(i),
                    f"校区{i}",
                    json.dumps(_square(*campus_centre(i))),
                )
                for i in range(schools)
            ],
        )
    finally:
        await connection.close()
    return time.perf_counter() - started


async def open_round(dsn: str, *, face_policy: str, sample_rate: float, hours: float = 6) -> str:
    """A province verification round for every grade, open now."""
    round_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            """INSERT INTO round (id, kind, name, term, starts_at, ends_at, grades, scope_level, scope_code,
            province_code, face_policy, face_sample_rate, state, opened_at, created_by)
            VALUES ($1, 'verification', '压测点名核验', '2026-autumn', $2, $3, $4, 'province', '41', '41',
            $5, $6, 'open', $2, 'bench')""",
            uuid.UUID(round_id), now - timedelta(minutes=5), now + timedelta(hours=hours), GRADES,
            face_policy, sample_rate,
        )  # fmt: skip
    finally:
        await connection.close()
    return round_id
