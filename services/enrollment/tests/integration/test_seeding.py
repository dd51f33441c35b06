"""The organisation tree is seeded once: a second start inserts and announces nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from services.enrollment.models import Campus, Region, School, SchoolClass, SchoolMajor
from services.enrollment.seeding import seed_org_tree
from services.enrollment.tests.integration.conftest import SCHOOL, Province, envelope_of

ANNOUNCEMENTS = (
    "enrollment.school.registered",
    "enrollment.campus.registered",
    "enrollment.class.registered",
)


async def _counts(p: Province) -> dict[str, int]:
    return {event_type: len(await p.outbox(event_type)) for event_type in ANNOUNCEMENTS}


async def test_seed__tree_and_announcements(p41: Province) -> None:
    assert await _counts(p41) == dict(zip(ANNOUNCEMENTS, (1, 1, 2), strict=True))
    async with p41.ctx.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Region)) == 3
        assert await session.scalar(select(func.count()).select_from(School)) == 1
        assert await session.scalar(select(func.count()).select_from(Campus)) == 1
        assert await session.scalar(select(func.count()).select_from(SchoolClass)) == 2
        years = await session.scalars(select(SchoolMajor.year).order_by(SchoolMajor.year))
        assert list(years) == [2024, 2025]
    [school] = await p41.outbox("enrollment.school.registered")
    data = envelope_of(school).data
    assert data["lineage"] == {"province": "41", "city": "4101", "county": "410102", "school": SCHOOL["41"]}
    [campus] = await p41.outbox("enrollment.campus.registered")
    assert envelope_of(campus).data["boundary"]["type"] == "Polygon"


async def test_seed__running_twice_announces_nothing_new(p41: Province) -> None:
    before = await _counts(p41)
    await seed_org_tree(p41.ctx)
    assert await _counts(p41) == before
