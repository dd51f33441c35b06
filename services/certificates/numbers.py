"""Handing out certificate numbers: a per-(series, year, school) counter in the database, turned
into serials by the keyed permutation of domain/certificate_number.py.

Why a counter and not random serials behind the unique index: random serials collide and need
retries (219 in 20,000 under 4 concurrent workers, STACK.md "Numbers"); a counter permuted by a
bijection cannot collide, so no batch ever retries. The counter only grows: a void or a rollback
of graduation keeps its number used, so no number is ever given to two certificates.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.domain.certificate_number import (
    MIN_KEY_BYTES,
    SERIAL_RANGE,
    Series,
    compose,
    permute_serial,
)
from services.certificates.models import CertificateNumberCounter
from shared.secret_files import create_once
from shared.settings import Settings


class SerialsExhausted(Exception):
    """The school has no serials left in this series and year for a batch this large."""

    def __init__(self, series: Series, year: int, school_code: str, used: int, requested: int) -> None:
        super().__init__(
            f"school {school_code} has used {used} of the {SERIAL_RANGE} {series.name} serials of {year};"
            f" {requested} more do not fit"
        )
        self.series = series
        self.year = year
        self.school_code = school_code
        self.used = used
        self.requested = requested


def serial_domain(series: Series, year: int, school_code: str) -> str:
    """Each school, series and year gets its own permutation, as it has its own counter."""
    return f"{series.name}/{year}/{school_code}"


async def allocate_numbers(
    session: AsyncSession,
    *,
    series: Series,
    year: int,
    region: str,
    school_code: str,
    count: int,
    key: bytes,
) -> list[str]:
    """``count`` new numbers for one school, on the caller's transaction.

    The upsert takes the counter row's lock until the caller commits, so a second batch of the
    same school, series and year waits, then continues from the first one's end (READ COMMITTED
    re-reads the row after the wait; under REPEATABLE READ it would fail instead). The numbers
    commit or roll back together with the certificates that carry them: a rolled-back batch leaves
    the counter as it was, and as none of its numbers was issued, handing them out again later
    reuses nothing.
    """
    if count < 1:
        raise ValueError("allocate at least one number")
    if count > SERIAL_RANGE:
        raise SerialsExhausted(series, year, school_code, 0, count)
    table = CertificateNumberCounter.__table__
    upsert = insert(CertificateNumberCounter).values(
        series=series.name, year=year, school_code=school_code, next_counter=count
    )
    statement = upsert.on_conflict_do_update(
        index_elements=[table.c.series, table.c.year, table.c.school_code],
        set_={"next_counter": table.c.next_counter + count},
        # A batch that does not fit leaves the counter alone, so a smaller one may still fit.
        where=table.c.next_counter + count <= SERIAL_RANGE,
    ).returning(table.c.next_counter)
    end = (await session.execute(statement)).scalar_one_or_none()
    if end is None:
        # ON CONFLICT locked the row even though it did not update it: this read is current.
        used = await session.scalar(
            select(CertificateNumberCounter.next_counter).where(
                CertificateNumberCounter.series == series.name,
                CertificateNumberCounter.year == year,
                CertificateNumberCounter.school_code == school_code,
            )
        )
        raise SerialsExhausted(series, year, school_code, used or 0, count)
    domain = serial_domain(series, year, school_code)
    return [
        compose(year, region, school_code, series, permute_serial(counter, key, domain))
        for counter in range(end - count, end)
    ]


def number_key(settings: Settings) -> bytes:
    """The secret of the serial permutation, from ``certificate_number_key_file``; a new random
    one (0600) if the file does not exist yet.

    Back the file up with the database: under another key, later serials of a school and year may
    repeat earlier ones (the certificate table's unique number would then refuse the batch)."""
    path = settings.certificate_number_key_file
    if path is None:
        raise RuntimeError("certificates needs XUEJI_CERTIFICATE_NUMBER_KEY_FILE (created if missing)")
    if not path.exists():
        create_number_key_file(path)
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"{path}: the certificate number key must be at least {MIN_KEY_BYTES} bytes")
    return key


def create_number_key_file(path: Path) -> None:
    """A new random number key at ``path`` (0600), unless one is there already: that one is kept.
    Also called by provisioning (deploy/local/provision.py), for containers that mount the key
    read-only."""
    create_once(path, (secrets.token_hex(MIN_KEY_BYTES) + "\n").encode("ascii"))
