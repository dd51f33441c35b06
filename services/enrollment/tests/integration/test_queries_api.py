"""Searching students (masked IDs, jurisdiction in SQL) and reading a full ID number, which is
audit-logged, on the real servers."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import select

from services.enrollment.models.audit import AuditEntry
from services.enrollment.tests.integration.conftest import CITY, COUNTY, SCHOOL, Province
from shared.auth import Role

_CHARS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"


def unique_surname() -> str:
    """A name fragment no other test uses, so a search sees only this test's students."""
    return "".join(random.choices(_CHARS, k=5))


async def registered(p: Province, fragment: str, n: int) -> list[tuple[dict[str, Any], str]]:
    """``n`` students whose names contain ``fragment``, with their full ID numbers."""
    found = []
    for i in range(n):
        number = p.new_id_number()
        found.append((await p.register(f"钱{fragment}{_CHARS[i]}", id_number=number), number))
    return found


# The seed's second school of province 41, in another city (4102) and county (410202).
OTHER_SCHOOL_41 = "4141020001"


async def registered_elsewhere(p: Province, fragment: str) -> dict[str, Any]:
    """One student of OTHER_SCHOOL_41 whose name contains ``fragment``, by that school's registrar."""
    body = {
        "name": f"孙{fragment}",
        "id_type": "resident_id",
        "id_number": p.new_id_number(),
        "class_id": f"class-{OTHER_SCHOOL_41}-2024-1",
    }
    response = await p.client.post(
        "/api/v1/students", json=body, headers=p.auth(Role.SCHOOL_REGISTRAR, OTHER_SCHOOL_41)
    )
    assert response.status_code == 201, response.text
    student: dict[str, Any] = response.json()
    return student


async def _search(
    p: Province, role: Role = Role.SCHOOL_REGISTRAR, org: str | None = None, **params: Any
) -> Any:
    return await p.client.get("/api/v1/students/search", params=params, headers=p.auth(role, org))


async def test_search__filters_paginates_and_masks(p41: Province) -> None:
    fragment = unique_surname()
    students = await registered(p41, fragment, 3)
    page = await _search(p41, name=fragment, limit=2)
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 3 and len(body["items"]) == 2
    rest = (await _search(p41, name=fragment, limit=2, offset=2)).json()["items"]
    assert {i["id"] for i in body["items"] + rest} == {s["id"] for s, _ in students}
    for _, number in students:
        assert number not in page.text
    item = body["items"][0]
    assert item["id_number_masked"].count("*") == 10 and item["student_number_masked"].count("*") == 10
    narrowed = await _search(
        p41, name=fragment, grade=2024, school=SCHOOL["41"], major="710201", status="in_school"
    )
    assert narrowed.json()["total"] == 3
    assert (await _search(p41, name=fragment, grade=2025)).json()["total"] == 0
    assert (await _search(p41, name=fragment, study_form="part_time")).json()["total"] == 0


async def test_search__full_id_number_matches_exactly_only(p41: Province) -> None:
    [(student, number)] = await registered(p41, unique_surname(), 1)
    exact = (await _search(p41, id_number=number.lower())).json()
    assert [i["id"] for i in exact["items"]] == [student["id"]]
    assert (await _search(p41, id_number=number[:-2])).json()["total"] == 0


async def test_search__jurisdiction_is_in_the_query(p41: Province, p37: Province) -> None:
    fragment = unique_surname()
    await registered(p41, fragment, 1)
    assert (await _search(p41, Role.COUNTY, name=fragment)).json()["total"] == 1
    assert (await _search(p41, Role.SCHOOL_REGISTRAR, "4141019999", name=fragment)).json()["total"] == 0
    assert (await _search(p41, Role.COUNSELOR, name=fragment)).json()["total"] == 0
    assert (await _search(p37, Role.PROVINCE, name=fragment)).json()["total"] == 0


async def test_search__a_region_narrows_to_its_schools(p41: Province) -> None:
    fragment = unique_surname()
    here = {s["id"] for s, _ in await registered(p41, fragment, 2)}
    there = {(await registered_elsewhere(p41, fragment))["id"]}

    async def ids(role: Role = Role.PROVINCE, org: str | None = None, **params: Any) -> set[str]:
        found = await _search(p41, role, org, name=fragment, limit=200, **params)
        assert found.status_code == 200, found.text
        assert found.json()["total"] == len(found.json()["items"])
        return {item["id"] for item in found.json()["items"]}

    assert await ids() == here | there
    assert await ids(region="41") == here | there
    assert await ids(region=CITY["41"]) == await ids(region=COUNTY["41"]) == here
    assert await ids(region="4102") == await ids(region="410202") == there
    assert await ids(region="4109") == set()
    assert await ids(region="37") == set()
    # With a school it is one more condition: a school outside the region gives nothing.
    assert await ids(region="4102", school=SCHOOL["41"]) == set()
    assert await ids(region="4102", school=OTHER_SCHOOL_41) == there
    # The caller's jurisdiction still applies: a region outside it gives nothing, one above it
    # gives no more than the jurisdiction.
    assert await ids(Role.CITY, region="4102") == set()
    assert await ids(Role.CITY, region="41") == here
    assert await ids(Role.SCHOOL_REGISTRAR, OTHER_SCHOOL_41, region=CITY["41"]) == set()


async def test_search__bad_parameters_are_named(p41: Province) -> None:
    for params, field in (
        ({"grade": "abc"}, "grade"),
        ({"school": "123"}, "school"),
        ({"region": "410"}, "region"),
        ({"region": "4101020"}, "region"),
        ({"region": "41a1"}, "region"),
        ({"limit": 0}, "limit"),
    ):
        response = await _search(p41, **params)
        assert response.status_code == 422, response.text
        assert any(field in e["field"] for e in response.json()["errors"])
    assert (await p41.client.get("/api/v1/students/search")).status_code == 401


async def test_full_id_number__needs_role_and_reason_and_is_logged(p41: Province, p37: Province) -> None:
    [(student, number)] = await registered(p41, unique_surname(), 1)
    url = f"/api/v1/students/{student['id']}/id-number"
    assert (await p41.client.get(url, headers=p41.auth(Role.SCHOOL_REGISTRAR))).status_code == 422
    reason = {"reason": f"核对学生 {number} 的资助材料"}
    assert (await p41.client.get(url, params=reason, headers=p41.auth(Role.COUNSELOR))).status_code == 403
    assert (await p37.client.get(url, params=reason, headers=p37.auth(Role.PROVINCE))).status_code == 404
    response = await p41.client.get(url, params=reason, headers=p41.auth(Role.COUNTY))
    assert response.status_code == 200 and response.json()["id_number"] == number
    async with p41.ctx.sessionmaker() as session:
        [entry] = list(
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.subject_id == student["id"], AuditEntry.action == "student.id_number.read"
                )
            )
        )
    assert entry.actor_role == "county" and entry.school_code == SCHOOL["41"]
    assert number not in entry.detail and number not in str(entry.data)
    assert number[-4:] in entry.detail and "资助" in str(entry.data)
