"""Certificate numbers handed out on the real PostgreSQL: concurrent batches, rollbacks, the end
of a school's serial range, and the permutation key file."""

from __future__ import annotations

import asyncio
import secrets
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import services.certificates
from services.certificates.domain.certificate_number import SERIAL_RANGE, Series, parse
from services.certificates.models import CertificateNumberCounter
from services.certificates.numbers import SerialsExhausted, allocate_numbers, number_key
from shared.db import make_engine, make_sessionmaker, upgrade_to_head
from shared.settings import Settings
from shared.testing import temporary_database

pytestmark = pytest.mark.integration

MIGRATIONS = Path(services.certificates.__file__).parent / "migrations"
REGION = "410102"
YEAR = 2026
KEY = secrets.token_bytes(32)


@pytest.fixture(scope="module")
async def numbers_db() -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    with temporary_database() as url:
        await asyncio.to_thread(upgrade_to_head, url.replace("+asyncpg", "+psycopg"), MIGRATIONS)
        engine = make_engine(url, pool_size=4)
        try:
            yield make_sessionmaker(engine)
        finally:
            await engine.dispose()


class BatchFailed(Exception):
    """Raised inside a batch's transaction so that it rolls back."""


def new_school() -> str:
    """A school code no other test uses, so the tests share one database."""
    return "41" + "".join(secrets.choice("0123456789") for _ in range(8))


async def allocate(
    db: async_sessionmaker[AsyncSession],
    school: str,
    count: int,
    *,
    series: Series = Series.graduation,
    hold_for: float = 0.0,
) -> list[str]:
    """One batch in its own transaction; ``hold_for`` keeps it open as rendering would."""
    async with db() as session, session.begin():
        numbers = await allocate_numbers(
            session, series=series, year=YEAR, region=REGION, school_code=school, count=count, key=KEY
        )
        await asyncio.sleep(hold_for)
    return numbers


async def counter_of(
    db: async_sessionmaker[AsyncSession], school: str, series: Series = Series.graduation
) -> int:
    async with db() as session:
        value = await session.scalar(
            select(CertificateNumberCounter.next_counter).where(
                CertificateNumberCounter.series == series.name,
                CertificateNumberCounter.year == YEAR,
                CertificateNumberCounter.school_code == school,
            )
        )
    assert value is not None
    return value


async def test_allocate_numbers__two_concurrent_batches_never_collide(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    school, other_school = new_school(), new_school()
    # Each batch holds its transaction open a while, so the two batches of one school overlap and
    # the second must wait for the first's row lock.
    first, second, third = await asyncio.gather(
        allocate(numbers_db, school, 2000, hold_for=0.3),
        allocate(numbers_db, school, 2000, hold_for=0.3),
        allocate(numbers_db, other_school, 2000, hold_for=0.3),
    )
    everything = first + second + third
    assert len(set(everything)) == 6000
    parsed = [parse(number) for number in everything]
    assert {(p.year, p.region, p.series) for p in parsed} == {(YEAR, REGION, Series.graduation)}
    assert sorted(p.school for p in parsed) == sorted([school] * 4000 + [other_school] * 2000)
    assert len({p.serial for p in parsed if p.school == school}) == 4000
    assert await counter_of(numbers_db, school) == 4000
    assert await counter_of(numbers_db, other_school) == 2000


async def test_allocate_numbers__a_rolled_back_batch_does_not_cause_collisions(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    school = new_school()
    issued = await allocate(numbers_db, school, 5)
    abandoned: list[str] = []
    with pytest.raises(BatchFailed):
        async with numbers_db() as session, session.begin():
            abandoned = await allocate_numbers(
                session,
                series=Series.graduation,
                year=YEAR,
                region=REGION,
                school_code=school,
                count=10,
                key=KEY,
            )
            raise BatchFailed  # e.g. rendering crashed: the transaction rolls back
    later = await allocate(numbers_db, school, 10)
    assert not set(later) & set(issued)
    assert len(set(later)) == 10
    # The rolled-back numbers were never issued (the certificates rolled back with them), so
    # handing them out now reuses nothing.
    assert later == abandoned
    assert await counter_of(numbers_db, school) == 15


async def test_allocate_numbers__continues_a_school_without_repeating(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    school = new_school()
    batches = [await allocate(numbers_db, school, size) for size in (1, 7, 300, 1)]
    flat = [number for batch in batches for number in batch]
    assert len(set(flat)) == len(flat) == 309
    assert await counter_of(numbers_db, school) == 309


async def test_allocate_numbers__series_have_their_own_counters(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    school = new_school()
    graduation = await allocate(numbers_db, school, 3)
    replacement = await allocate(numbers_db, school, 2, series=Series.education_certificate)
    assert {parse(n).series for n in replacement} == {Series.education_certificate}
    assert not set(graduation) & set(replacement)
    assert await counter_of(numbers_db, school, Series.education_certificate) == 2
    assert await counter_of(numbers_db, school) == 3


async def test_allocate_numbers__refuses_to_exceed_the_serial_range(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    school = new_school()
    async with numbers_db() as session, session.begin():
        session.add(
            CertificateNumberCounter(
                series=Series.graduation.name, year=YEAR, school_code=school, next_counter=SERIAL_RANGE - 5
            )
        )
    with pytest.raises(SerialsExhausted) as refused:
        await allocate(numbers_db, school, 6)
    assert (refused.value.used, refused.value.requested) == (SERIAL_RANGE - 5, 6)
    # The refused batch left the counter alone, so the last five still fit.
    last = await allocate(numbers_db, school, 5)
    assert len(set(last)) == 5
    assert await counter_of(numbers_db, school) == SERIAL_RANGE
    with pytest.raises(SerialsExhausted):
        await allocate(numbers_db, school, 1)
    assert await counter_of(numbers_db, school) == SERIAL_RANGE


async def test_allocate_numbers__refuses_impossible_counts(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(SerialsExhausted):
        await allocate(numbers_db, new_school(), SERIAL_RANGE + 1)
    with pytest.raises(ValueError):
        await allocate(numbers_db, new_school(), 0)


async def test_allocate_numbers__ten_thousand_in_one_call(
    numbers_db: async_sessionmaker[AsyncSession],
) -> None:
    school = new_school()
    started = time.perf_counter()
    numbers = await allocate(numbers_db, school, 10_000)
    elapsed = time.perf_counter() - started
    print(f"allocated 10,000 certificate numbers in {elapsed * 1000:.0f} ms")
    assert len(set(numbers)) == 10_000
    # A province issues a school's whole year in one batch; seconds here would show in printing.
    assert elapsed < 5.0


def _settings(key_file: Path | None) -> Settings:
    return Settings(
        service="certificates",
        province="41",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/unused",
        certificate_number_key_file=key_file,
    )


def test_number_key__created_once_with_owner_only_access(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "number.key"
    key = number_key(_settings(path))
    assert len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert number_key(_settings(path)) == key
    assert list(path.parent.iterdir()) == [path]  # no draft left behind


def test_number_key__refuses_a_short_or_missing_setting(tmp_path: Path) -> None:
    short = tmp_path / "short.key"
    short.write_bytes(b"0123456789\n")
    with pytest.raises(ValueError):
        number_key(_settings(short))
    with pytest.raises(RuntimeError):
        number_key(_settings(None))
