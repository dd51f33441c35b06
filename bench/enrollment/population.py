"""N existing students, written with COPY: the province the benchmark registers into."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg

from shared.id_digest import id_digest
from shared.idnumber import resident_id_check_digit

# Existing students live in these counties; the benchmark's new students in others, so the
# two never collide. 2,190 birth dates x 1,000 sequences = 2.19 million IDs per county.
EXISTING_COUNTIES = ("410102", "410103", "410104", "410105", "410106", "410108", "410122", "410181", "410182")
FIRST_BIRTH = date(2005, 1, 1)
DAYS = 2190


def existing_ids(n: int) -> Iterator[str]:
    count = 0
    for county in EXISTING_COUNTIES:
        for day in range(DAYS):
            birth = FIRST_BIRTH + timedelta(days=day)
            prefix = f"{county}{birth:%Y%m%d}"
            for seq in range(1000):
                first17 = f"{prefix}{seq:03d}"
                yield first17 + resident_id_check_digit(first17)
                count += 1
                if count == n:
                    return
    raise ValueError(f"at most {count} existing students can be generated")


_COLUMNS = (
    "id", "student_number", "name", "sex", "birth_date", "id_type", "id_number", "province_code",
    "city_code", "county_code", "school_code", "class_id", "major_code", "grade", "study_length",
    "study_form", "status", "frozen", "id_digest", "created_at", "updated_at",
)  # fmt: skip


async def copy_students(dsn: str, n: int, *, key: bytes, class_id: str, school: str) -> float:
    """COPY ``n`` students into the service's database; returns seconds taken (with ANALYZE)."""
    started = datetime.now(UTC)
    connection = await asyncpg.connect(dsn)
    try:
        batch: list[tuple[object, ...]] = []
        for number in existing_ids(n):
            batch.append(
                (
                    str(uuid.uuid4()), "G" + number, "存量学生", "M" if int(number[16]) % 2 else "F",
                    date(int(number[6:10]), int(number[10:12]), int(number[12:14])), "resident_id", number,
                    "41", "4101", "410102", school, class_id, "710201", 2024, Decimal(3), "full_time",
                    "in_school", False, id_digest(key, "resident_id", number), started, started,
                )
            )  # fmt: skip
            if len(batch) == 50_000:
                await connection.copy_records_to_table("student", records=batch, columns=_COLUMNS)
                batch.clear()
        if batch:
            await connection.copy_records_to_table("student", records=batch, columns=_COLUMNS)
        await connection.execute("ANALYZE student")
    finally:
        await connection.close()
    return (datetime.now(UTC) - started).total_seconds()
