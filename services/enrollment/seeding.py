"""At start: load the province's organisation tree from the seed file, inserting what is missing.

Each school, campus and class is announced once, when its row is first inserted, so starting the
service again (or two replicas at once: ``ON CONFLICT DO NOTHING`` lets exactly one insert win)
emits nothing new. The seed's supplementary registration windows (补注册) are inserted the same
way, under an id made of what they grant: one the province has closed stays closed on restart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from opentelemetry import trace
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import InstrumentedAttribute

from services.enrollment.domain.org_tree import OrgRows, OrgSeed, SeedSupplementaryWindow, flatten
from services.enrollment.models import Campus, Major, Region, School, SchoolClass, SchoolMajor
from services.enrollment.models.registration_windows import SupplementaryRegistrationWindow
from services.enrollment.registration_windows import resolve_scope
from shared.bus.unit_of_work import UnitOfWork
from shared.events.enrollment import CampusRegistered, ClassRegistered, QualificationFiled, SchoolRegistered
from shared.service import ServiceContext

log = logging.getLogger(__name__)
tracer = trace.get_tracer("xueji.enrollment")


async def seed_org_tree(ctx: ServiceContext) -> None:
    path = ctx.settings.seed_file
    if path is None:
        log.info("no seed file configured: the organisation tree is left as it is")
        return
    seed = OrgSeed.model_validate_json(path.read_bytes())
    if seed.province.code != ctx.settings.province:
        raise ValueError(
            f"seed file {path} is for province {seed.province.code}, not {ctx.settings.province}"
        )
    rows = flatten(seed)
    with tracer.start_as_current_span("seed organisation tree"):
        async with ctx.uow() as uow:
            new = await _insert_missing(uow, rows)
            new["supplementary windows"] = await seed_supplementary_windows(
                uow, seed.province.code, seed.supplementary_windows
            )
            await uow.commit()
    log.info("organisation tree seeded: %s", ", ".join(f"{n} new {what}" for what, n in new.items()))


async def _insert_missing(uow: UnitOfWork, rows: OrgRows) -> dict[str, int]:
    await _insert(uow, Region, [asdict(r) for r in rows.regions], Region.code)
    new_schools = await _insert(
        uow,
        School,
        [
            {
                "code": s.lineage.school,
                "name": s.name,
                "type": s.type,
                "province_code": s.lineage.province,
                "city_code": s.lineage.city,
                "county_code": s.lineage.county,
            }
            for s in rows.schools
        ],
        School.code,
    )
    await _insert(uow, Major, [asdict(m) for m in rows.majors], Major.code)
    new_qualifications = await _insert_qualifications(uow, rows)
    new_campuses = await _insert(uow, Campus, [asdict(c) for c in rows.campuses], Campus.id)
    new_classes = await _insert(uow, SchoolClass, [asdict(c) for c in rows.classes], SchoolClass.id)

    for school in rows.schools:
        if school.lineage.school in new_schools:
            uow.emit(
                SchoolRegistered(lineage=school.lineage, name=school.name, school_type=school.type),
                subject=school.lineage.school,
            )
    # Certificates decides graduation on the qualifications it heard of: a seeded one is announced
    # like one the province files through the API.
    for school_code, major_code, year in sorted(new_qualifications):
        uow.emit(
            QualificationFiled(school_code=school_code, major_code=major_code, year=year), subject=school_code
        )
    for campus in rows.campuses:
        if campus.id in new_campuses:
            uow.emit(
                CampusRegistered(
                    campus_id=campus.id,
                    school_code=campus.school_code,
                    name=campus.name,
                    crs=campus.crs,
                    boundary=campus.boundary,
                ),
                subject=campus.id,
            )
    for klass in rows.classes:
        if klass.id in new_classes:
            uow.emit(
                ClassRegistered(
                    class_id=klass.id,
                    school_code=klass.school_code,
                    name=klass.name,
                    grade=klass.grade,
                    major_code=klass.major_code,
                ),
                subject=klass.id,
            )
    return {
        "schools": len(new_schools),
        "qualifications": len(new_qualifications),
        "campuses": len(new_campuses),
        "classes": len(new_classes),
    }


async def _insert_qualifications(uow: UnitOfWork, rows: OrgRows) -> set[tuple[str, str, int]]:
    """Insert the qualifications not there yet; return (school, major, year) of those inserted."""
    if not rows.qualifications:
        return set()
    inserted = await uow.session.execute(
        insert(SchoolMajor)
        .values([asdict(q) for q in rows.qualifications])
        .on_conflict_do_nothing()
        .returning(SchoolMajor.school_code, SchoolMajor.major_code, SchoolMajor.year)
    )
    return {(school, major, year) for school, major, year in inserted.all()}


SEEDED_BY = "seed"


def seeded_window_id(window: SeedSupplementaryWindow) -> str:
    return f"seed-{window.intake_year}-{window.season}-{window.scope or 'all'}-{window.starts_on:%Y%m%d}"


async def seed_supplementary_windows(
    uow: UnitOfWork, province: str, windows: Sequence[SeedSupplementaryWindow]
) -> int:
    """Insert the seed's windows not there yet (after the tree: a scope names its places);
    returns how many this call inserted."""
    values = []
    for window in windows:
        scope = await resolve_scope(uow.session, province, window.scope)
        if scope is None:
            raise ValueError(
                f"supplementary window scope {window.scope} is not a place of province {province}"
            )
        values.append(
            {
                "id": seeded_window_id(window),
                "intake_year": window.intake_year,
                "season": window.season,
                "province_code": scope.province,
                "city_code": scope.city,
                "county_code": scope.county,
                "school_code": scope.school,
                "starts_on": window.starts_on,
                "ends_on": window.ends_on,
                "reason": window.reason,
                "granted_by": SEEDED_BY,
                "granted_by_name": SEEDED_BY,
            }
        )
    return len(
        await _insert(uow, SupplementaryRegistrationWindow, values, SupplementaryRegistrationWindow.id)
    )


async def _insert(
    uow: UnitOfWork, table: type[Any], values: Sequence[dict[str, Any]], key: InstrumentedAttribute[str]
) -> set[str]:
    """Insert the rows not there yet; return the keys of those this call inserted."""
    if not values:
        return set()
    inserted = await uow.session.scalars(
        insert(table).values(list(values)).on_conflict_do_nothing().returning(key)
    )
    return set(inserted.all())
