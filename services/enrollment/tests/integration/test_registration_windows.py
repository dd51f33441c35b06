"""The registration window (seed 004 art. 6) on the registration paths, and the province's
supplementary windows (补注册) over HTTP.

Each test registers into a school of its own, in classes of entry years no other test uses
(2019–2022), so the grants it opens — state of the session's province — decide its
registrations alone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from services.enrollment.models import Region, School, SchoolClass, SchoolMajor, Student
from services.enrollment.models.audit import AuditEntry
from services.enrollment.tests.integration.conftest import (
    CITY,
    COUNTY,
    Province,
    open_supplementary_window,
)
from services.enrollment.tests.integration.imports_support import finished, report, row, workbook
from shared.auth import Role
from shared.china_time import today_in_china
from shared.idnumber import make_resident_id
from shared.testing import unique_name

WINDOWS = "/api/v1/registration-windows/supplementary"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OTHER_COUNTY = "410105"  # 金水区: in 41's tree (added here), with no school of ours


@dataclass(frozen=True)
class Fresh:
    """A school of its own in 41's seeded county, with one class of ``grade`` whose major is
    qualified for that year: the session's seeded school keeps its qualifications as seeded."""

    school: str
    class_id: str
    grade: int


async def _fresh_class(p: Province, grade: int) -> Fresh:
    school = f"{p.code}99{secrets.randbelow(10**6):06d}"
    class_id = unique_name("window-class")
    async with p.ctx.sessionmaker() as session:
        session.add(
            School(
                code=school,
                name=f"补注册测试学校{school}",
                type="secondary_vocational",
                province_code=p.code,
                city_code=CITY[p.code],
                county_code=COUNTY[p.code],
            )
        )
        await session.flush()
        session.add(SchoolMajor(school_code=school, major_code="710201", year=grade))
        session.add(
            SchoolClass(
                id=class_id, school_code=school, name=f"{grade}级1班", grade=grade, major_code="710201"
            )
        )
        await session.commit()
    return Fresh(school, class_id, grade)


async def _other_county(p: Province) -> None:
    async with p.ctx.sessionmaker() as session:
        await session.execute(
            insert(Region)
            .values(code=OTHER_COUNTY, name="金水区", level="county", parent_code="4101")
            .on_conflict_do_nothing()
        )
        await session.commit()


async def _register(p: Province, fresh: Fresh) -> Any:
    """A junior-high graduate of 15 on 1 September of the class's entry year."""
    birth = date(fresh.grade - 15, p.rng.randint(1, 8), p.rng.randint(1, 28))
    body = {
        "name": "补注册",
        "id_type": "resident_id",
        "id_number": make_resident_id(COUNTY[p.code], birth, p.rng.randint(0, 999)),
        "class_id": fresh.class_id,
    }
    return await p.client.post(
        "/api/v1/students", json=body, headers=p.auth(Role.SCHOOL_REGISTRAR, fresh.school)
    )


def _refusal(response: Any) -> tuple[str, str]:
    """The class_id issue of a 422 problem (other rules hold in these tests)."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [issue] = response.json()["errors"]
    assert issue["field"] == "class_id", issue
    return issue["reason"], issue["reason_zh"]


@contextmanager
def _pinned_today(p: Province, on: date) -> Iterator[None]:
    p.ctx.extras["today"] = lambda: on
    try:
        yield
    finally:
        p.ctx.extras.pop("today", None)


async def test_registration_window__refused_without_grant_then_only_a_covering_grant_allows(
    p41: Province,
) -> None:
    fresh = await _fresh_class(p41, 2021)
    await _other_county(p41)

    en, zh = _refusal(await _register(p41, fresh))
    assert zh.startswith("2021年秋季新生注册已于2021年11月20日截止") and "2021-11-20" in en

    elsewhere = await open_supplementary_window(p41, 2021, scope=OTHER_COUNTY)
    assert (elsewhere["scope"], elsewhere["scope_level"]) == (OTHER_COUNTY, "county")
    spring = await open_supplementary_window(p41, 2021, season="spring")  # another intake
    assert spring["scope_level"] == "province"
    _refusal(await _register(p41, fresh))

    ours = await open_supplementary_window(p41, 2021, scope=COUNTY["41"])
    allowed = await _register(p41, fresh)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["grade"] == 2021

    listed = await p41.client.get(f"{WINDOWS}?intake_year=2021", headers=p41.auth(Role.PROVINCE))
    assert listed.status_code == 200
    by_id = {w["id"]: w for w in listed.json()}
    assert {elsewhere["id"], spring["id"], ours["id"]} <= set(by_id)
    mine = by_id[ours["id"]]
    assert (mine["granted_by"], mine["reason"], mine["open_today"]) == ("41-province", "测试补注册", True)
    assert mine["granted_at"] and mine["closed_at"] is None

    closed = await p41.client.post(
        f"{WINDOWS}/{ours['id']}/close", json={"reason": "补注册完成"}, headers=p41.auth(Role.PROVINCE)
    )
    assert closed.status_code == 200, closed.text
    assert (closed.json()["closed_by"], closed.json()["close_reason"]) == ("41-province", "补注册完成")
    assert closed.json()["open_today"] is False
    _refusal(await _register(p41, fresh))
    again = await p41.client.post(
        f"{WINDOWS}/{ours['id']}/close", json={"reason": "再关一次"}, headers=p41.auth(Role.PROVINCE)
    )
    assert again.status_code == 409

    still_open = await p41.client.get(f"{WINDOWS}?intake_year=2021", headers=p41.auth(Role.PROVINCE))
    assert ours["id"] not in {w["id"] for w in still_open.json()}
    every = await p41.client.get(
        f"{WINDOWS}?intake_year=2021&season=autumn&include_closed=true", headers=p41.auth(Role.PROVINCE)
    )
    assert ours["id"] in {w["id"] for w in every.json()}
    assert spring["id"] not in {w["id"] for w in every.json()}

    async with p41.ctx.sessionmaker() as session:
        actions = await session.scalars(
            select(AuditEntry.action).where(AuditEntry.subject_id == ours["id"]).order_by(AuditEntry.seq)
        )
        assert list(actions) == ["registration_window.opened", "registration_window.closed"]


async def test_registration_window__a_school_scoped_grant_covers_that_school(p41: Province) -> None:
    fresh = await _fresh_class(p41, 2022)
    _refusal(await _register(p41, fresh))
    await open_supplementary_window(p41, 2022, scope=fresh.school)
    allowed = await _register(p41, fresh)
    assert allowed.status_code == 201, allowed.text


async def test_registration_window__regular_window_needs_no_grant(p41: Province) -> None:
    fresh = await _fresh_class(p41, 2026)
    with _pinned_today(p41, date(2026, 9, 15)):
        allowed = await _register(p41, fresh)
        assert allowed.status_code == 201, allowed.text
    with _pinned_today(p41, date(2026, 11, 21)):
        _, zh = _refusal(await _register(p41, fresh))
        assert zh.startswith("2026年秋季新生注册已于2026年11月20日截止")


async def test_registration_window__only_the_province_grants_lists_and_closes(p41: Province) -> None:
    on = today_in_china()
    body = {
        "intake_year": 2019,
        "season": "autumn",
        "starts_on": on.isoformat(),
        "ends_on": (on + timedelta(days=10)).isoformat(),
        "reason": "越权",
    }
    opened = await open_supplementary_window(p41, 2019)
    for role in (Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.MINISTRY):
        headers = p41.auth(role, "000000" if role is Role.MINISTRY else None)
        granted = await p41.client.post(WINDOWS, json=body, headers=headers)
        assert granted.status_code == 403, (role, granted.text)
        assert granted.headers["content-type"].startswith("application/problem+json")
        listed = await p41.client.get(WINDOWS, headers=headers)
        assert listed.status_code == 403, role
        closed = await p41.client.post(
            f"{WINDOWS}/{opened['id']}/close", json={"reason": "x"}, headers=headers
        )
        assert closed.status_code == 403, role
    unauthenticated = await p41.client.post(WINDOWS, json=body)
    assert unauthenticated.status_code == 401
    unknown = await p41.client.post(
        f"{WINDOWS}/{unique_name('w')}/close", json={"reason": "x"}, headers=p41.auth(Role.PROVINCE)
    )
    assert unknown.status_code == 404


async def test_registration_window__bad_grants_name_the_field(p41: Province) -> None:
    on = today_in_china()
    good = {
        "intake_year": 2019,
        "season": "autumn",
        "starts_on": on.isoformat(),
        "ends_on": (on + timedelta(days=10)).isoformat(),
        "reason": "补注册",
    }
    cases = [
        ({"starts_on": "2019-11-20"}, "starts_on"),  # the regular deadline day: not supplementary
        ({"ends_on": (on - timedelta(days=1)).isoformat()}, "ends_on"),
        ({"scope": "3701"}, "scope"),  # a city of another province
        ({"scope": "410199"}, "scope"),  # no such county in the tree
        ({"scope": "3737010001"}, "scope"),  # another province's school
        ({"scope": "41x"}, "scope"),
        ({"season": "winter"}, "season"),
        ({"intake_year": "2019"}, "intake_year"),
        ({"reason": ""}, "reason"),
        ({"starts_on": "not a date"}, "starts_on"),
    ]
    for change, field in cases:
        response = await p41.client.post(WINDOWS, json={**good, **change}, headers=p41.auth(Role.PROVINCE))
        assert response.status_code == 422, (change, response.text)
        fields = [e["field"].split(".")[-1] for e in response.json()["errors"]]
        assert field in fields, (change, fields)


async def test_registration_window__no_id_entry_refused_on_class_id(p41: Province) -> None:
    fresh = await _fresh_class(p41, 2020)
    evidence = await p41.client.post(
        "/api/v1/evidence",
        files={"file": ("proof.pdf", b"%PDF-1.4\n% " + unique_name().encode(), "application/pdf")},
        headers=p41.auth(Role.SCHOOL_REGISTRAR, fresh.school),
    )
    assert evidence.status_code == 201, evidence.text
    body = {
        "name": "无证件",
        "sex": "F",
        "birth_date": "2005-05-01",
        "class_id": fresh.class_id,
        "guardian": {
            "name": "监护人",
            "relation": "mother",
            "id_number": make_resident_id(COUNTY["41"], date(1980, 3, 3), 7),
        },
        "evidence_ids": [evidence.json()["id"]],
    }
    url = "/api/v1/students/without-id"
    _, zh = _refusal(
        await p41.client.post(url, json=body, headers=p41.auth(Role.SCHOOL_REGISTRAR, fresh.school))
    )
    assert zh.startswith("2020年秋季新生注册已于2020年11月20日截止")
    await open_supplementary_window(p41, 2020)
    submitted = await p41.client.post(url, json=body, headers=p41.auth(Role.SCHOOL_REGISTRAR, fresh.school))
    assert submitted.status_code == 201, submitted.text


async def test_registration_window__an_import_into_a_closed_intake_reports_every_row_and_registers_none(
    p41: Province,
) -> None:
    fresh = await _fresh_class(p41, 2018)
    rows = [
        row(f"逾期{n}", make_resident_id(COUNTY[p41.code], date(2003, 3, n + 1), p41.rng.randint(0, 999)))
        for n in range(3)
    ]
    response = await p41.client.post(
        "/api/v1/registrations/imports",
        files={"file": ("late.xlsx", workbook(rows), XLSX)},
        data={"class_id": fresh.class_id},
        headers=p41.auth(Role.SCHOOL_REGISTRAR, fresh.school),
    )
    assert response.status_code == 202, response.text
    progress = await finished(p41, response.json()["id"], school=fresh.school)
    assert (progress["registered"], progress["failed"]) == (0, 3)
    failed = (await report(p41, progress["id"], school=fresh.school))["failed_rows"]
    assert {r["row"] for r in failed} == {2, 3, 4}
    for failure in failed:
        [problem] = failure["problems"]
        assert (
            problem["column"] == "班级" and "2018年秋季新生注册已于2018年11月20日截止" in problem["reason_zh"]
        )
    async with p41.ctx.sessionmaker() as session:
        assert not (await session.scalars(select(Student).where(Student.class_id == fresh.class_id))).all()
