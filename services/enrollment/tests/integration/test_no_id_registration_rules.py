"""A student without an ID meets the registration rules every new student meets (the entry age
against the route and the study length, the class's major qualified for its intake year): the
birth date is entered for such a student, and is checked at submission and again at approval."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert

from services.enrollment.models import SchoolMajor
from services.enrollment.tests.integration.conftest import SCHOOL, Province
from services.enrollment.tests.integration.test_workflow_api import _evidence, _no_id_body
from shared.auth import Role

CLASS_2025_MAJOR = "710201"  # the seeded 2025 class's major (deploy/seed/37.json)


async def _submit(p: Province, **overrides: Any) -> Any:
    body = _no_id_body(await _evidence(p), **overrides)
    return await p.client.post(
        "/api/v1/students/without-id", json=body, headers=p.auth(Role.SCHOOL_REGISTRAR)
    )


def _issues(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["reason_zh"] for e in response.json()["errors"]}


async def test_no_id__entry_age_and_study_length_rules_apply(p37: Province) -> None:
    too_young = _issues(await _submit(p37, birth_date="2016-01-01"))  # 9 on 1 Sep 2025
    assert "入学年龄不符合要求" in too_young["study_length"]
    wrong_length = _issues(await _submit(p37, study_length=2))  # 15: a junior-high graduate studies 3
    assert "入学年龄与学制不符" in wrong_length["study_length"]
    adult = await _submit(p37, birth_date="2005-03-01", study_length=2)  # 20: 1–3 years
    assert adult.status_code == 201, adult.text
    arts = await _submit(p37, birth_date="2013-03-01", study_length=5, entry_route="primary_arts")
    assert arts.status_code == 201, arts.text
    assert arts.json()["payload"]["entry_route"] == "primary_arts"


async def test_no_id__a_withdrawn_qualification_stops_the_approval(p37: Province) -> None:
    item = (await _submit(p37)).json()
    qualification = (SCHOOL["37"], CLASS_2025_MAJOR, 2025)
    async with p37.ctx.sessionmaker() as session:
        assert await session.get(SchoolMajor, qualification) is not None
        await session.execute(
            delete(SchoolMajor).where(
                SchoolMajor.school_code == qualification[0],
                SchoolMajor.major_code == qualification[1],
                SchoolMajor.year == qualification[2],
            )
        )
        await session.commit()
    try:
        refused = await p37.client.post(
            f"/api/v1/reviews/{item['id']}/decision",
            json={"decision": "approve"},
            headers=p37.auth(Role.SCHOOL_LEADER),
        )
        assert refused.status_code == 409, refused.text
        assert "招生资质" in refused.json()["title_zh"]
    finally:
        async with p37.ctx.sessionmaker() as session:
            await session.execute(
                insert(SchoolMajor).values(
                    school_code=qualification[0], major_code=qualification[1], year=qualification[2]
                )
            )
            await session.commit()
    approved = await p37.client.post(
        f"/api/v1/reviews/{item['id']}/decision",
        json={"decision": "approve"},
        headers=p37.auth(Role.SCHOOL_LEADER),
    )
    assert approved.status_code == 200 and approved.json()["current_level"] == "county"
