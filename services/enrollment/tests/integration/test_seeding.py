"""The organisation tree is seeded once: a second start inserts and announces nothing."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from services.enrollment.domain.org_tree import OrgSeed, flatten
from services.enrollment.models import Campus, Region, School, SchoolClass, SchoolMajor
from services.enrollment.models.registration_windows import SupplementaryRegistrationWindow
from services.enrollment.seeding import seed_org_tree, seed_supplementary_windows, seeded_window_id
from services.enrollment.tests.integration.conftest import REPO, SCHOOL, Province, envelope_of
from shared.auth import Role

ANNOUNCEMENTS = (
    "enrollment.school.registered",
    "enrollment.qualification.filed",
    "enrollment.campus.registered",
    "enrollment.class.registered",
)
SEEDED = ("enrollment.school.registered", "enrollment.campus.registered", "enrollment.class.registered")


async def _counts(p: Province) -> dict[str, int]:
    return {event_type: len(await p.outbox(event_type)) for event_type in ANNOUNCEMENTS}


def _seeded_schools(code: str) -> list[dict[str, Any]]:
    seed = json.loads((REPO / "deploy" / "seed" / f"{code}.json").read_text(encoding="utf-8"))
    return [school for city in seed["cities"] for county in city["counties"] for school in county["schools"]]


async def test_seed__tree_and_announcements(p41: Province) -> None:
    schools = _seeded_schools("41")
    expected = (
        len(schools),
        sum(len(school["campuses"]) for school in schools),
        sum(len(school["classes"]) for school in schools),
    )
    counts = await _counts(p41)
    assert {t: counts[t] for t in SEEDED} == dict(zip(SEEDED, expected, strict=True))
    async with p41.ctx.sessionmaker() as session:
        # The session's province is shared: other tests add regions and schools of their own.
        seeded_regions = Region.code.in_(["41", "4101", "410102"])
        assert await session.scalar(select(func.count()).select_from(Region).where(seeded_regions)) == 3
        seeded_school = School.code == "4141010001"
        assert await session.scalar(select(func.count()).select_from(School).where(seeded_school)) == 1
        assert (
            await session.scalar(
                select(func.count()).select_from(Campus).where(Campus.school_code == "4141010001")
            )
            == 1
        )
        # Seeded classes only: other tests of the session add classes of their own.
        seeded = SchoolClass.id.like("class-%")
        assert (
            await session.scalar(select(func.count()).select_from(SchoolClass).where(seeded)) == expected[2]
        )
        years = await session.scalars(
            select(SchoolMajor.year)
            .where(SchoolMajor.school_code == "4141010001", SchoolMajor.major_code == "710201")
            .order_by(SchoolMajor.year)
        )
        assert list(years) == [2024, 2025]
    [data] = [
        envelope_of(row).data
        for row in await p41.outbox("enrollment.school.registered")
        if envelope_of(row).data["lineage"]["school"] == SCHOOL["41"]
    ]
    assert data["lineage"] == {"province": "41", "city": "4101", "county": "410102", "school": SCHOOL["41"]}
    # Certificates decides graduation on the qualifications it hears of: the seeded ones too.
    seed_rows = flatten(OrgSeed.model_validate_json((REPO / "deploy" / "seed" / "41.json").read_bytes()))
    announced = [envelope_of(row).data for row in await p41.outbox("enrollment.qualification.filed")]
    for qualification in seed_rows.qualifications:
        assert asdict(qualification) in announced
    campuses = [envelope_of(row).data for row in await p41.outbox("enrollment.campus.registered")]
    assert {campus["boundary"]["type"] for campus in campuses} == {"Polygon"}


async def test_seed__running_twice_announces_nothing_new(p41: Province) -> None:
    before = await _counts(p41)
    await seed_org_tree(p41.ctx)
    assert await _counts(p41) == before


async def test_seed__supplementary_windows_once_and_closed_stays_closed(p41: Province) -> None:
    """The demo seed's windows (the suite's copy of the seed leaves them out; see conftest)."""
    seed = OrgSeed.model_validate_json((REPO / "deploy" / "seed" / "41.json").read_bytes())
    assert seed.supplementary_windows
    async with p41.ctx.uow() as uow:
        assert await seed_supplementary_windows(uow, "41", seed.supplementary_windows) == len(
            seed.supplementary_windows
        )
        await uow.commit()
    ids = [seeded_window_id(w) for w in seed.supplementary_windows]
    async with p41.ctx.sessionmaker() as session:
        rows = list(
            await session.scalars(
                select(SupplementaryRegistrationWindow).where(SupplementaryRegistrationWindow.id.in_(ids))
            )
        )
        assert {(r.reason, r.granted_by, r.province_code, r.county_code) for r in rows} == {
            ("演示环境补注册", "seed", "41", None)
        }
    closed = await p41.client.post(
        f"/api/v1/registration-windows/supplementary/{ids[0]}/close",
        json={"reason": "演示结束"},
        headers=p41.auth(Role.PROVINCE),
    )
    assert closed.status_code == 200, closed.text
    async with p41.ctx.uow() as uow:
        assert await seed_supplementary_windows(uow, "41", seed.supplementary_windows) == 0
        await uow.commit()
    async with p41.ctx.sessionmaker() as session:
        again = await session.get(SupplementaryRegistrationWindow, ids[0])
        assert again is not None and again.closed_at is not None
