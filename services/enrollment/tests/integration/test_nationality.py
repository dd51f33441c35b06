"""Nationality (国籍, key data) and ethnicity (民族) are part of a record (DOMAIN.md "Student
record"): given at registration, checked, and shown by the API."""

from __future__ import annotations

from typing import Any

from services.enrollment.tests.integration.conftest import SCHOOL, Province
from shared.auth import Role

CLASS = f"class-{SCHOOL['37']}-2025-1"


async def _register(p: Province, **fields: Any) -> Any:
    body = {
        "name": "民族",
        "id_type": "resident_id",
        "id_number": p.new_id_number(),
        "class_id": CLASS,
        **fields,
    }
    return await p.client.post("/api/v1/students", json=body, headers=p.auth(Role.SCHOOL_REGISTRAR))


async def test_nationality__resident_id_is_chinese_and_ethnicity_is_kept(p37: Province) -> None:
    response = await _register(p37, ethnicity="05")
    assert response.status_code == 201, response.text
    assert (response.json()["nationality"], response.json()["ethnicity"]) == ("CHN", "05")
    shown = await p37.client.get(
        f"/api/v1/students/{response.json()['id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert (shown.json()["nationality"], shown.json()["ethnicity"]) == ("CHN", "05")


async def test_nationality__refusals_name_the_field(p37: Province) -> None:
    foreign = await _register(p37, nationality="USA")
    assert foreign.status_code == 422
    assert [e["field"] for e in foreign.json()["errors"]] == ["nationality"]
    unknown = await _register(p37, ethnicity="99")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "ethnicity"


async def test_nationality__a_passport_carries_its_own(p37: Province) -> None:
    response = await _register(
        p37,
        id_type="passport",
        id_number=f"P{p37.rng.randint(10**7, 10**8 - 1)}",
        sex="F",
        birth_date="2010-04-04",
        nationality="kaz",
    )
    assert response.status_code == 201, response.text
    assert (response.json()["nationality"], response.json()["ethnicity"]) == ("KAZ", None)
