"""Negative-list indicators per school on the real database (FM2, FM3, FM5, FM8, rating D)."""

from __future__ import annotations

import random
from typing import Any

from uuid6 import uuid7

from services.enrollment.models import School, SchoolMajor, Student
from services.enrollment.models.problems import ProblemRecord
from services.enrollment.tests.integration.conftest import COUNTY, Province
from shared.auth import Role

YEAR = 2025


def _students(school: str, grade: int, n: int, major: str = "710201") -> list[Student]:
    return [
        Student(
            id=str(uuid7()),
            student_number=f"L{uuid7().hex}",
            name="测试",
            id_type="none",  # counts only: no ID numbers to collide with other tests' students
            id_number=None,
            province_code="41",
            city_code="4101",
            county_code=COUNTY["41"],
            school_code=school,
            major_code=major,
            grade=grade,
            study_length=3,
            study_form="full_time",
            status="in_school",
        )
        for _ in range(n)
    ]


async def _school(p: Province, *, students: list[tuple[int, int, str]], qualified_years: list[int]) -> str:
    """A school of its own (so other tests' students don't count) with the given students."""
    code = "41419" + str(random.randint(10000, 99999))
    async with p.ctx.sessionmaker() as session:
        session.add(
            School(
                code=code,
                name=f"指标测试学校{code}",
                type="secondary_vocational",
                province_code="41",
                city_code="4101",
                county_code=COUNTY["41"],
            )
        )
        await session.flush()
        session.add_all(SchoolMajor(school_code=code, major_code="710201", year=y) for y in qualified_years)
        for grade, n, major in students:
            session.add_all(_students(code, grade, n, major))
        await session.commit()
    return code


async def _indicators(p: Province, school: str, role: Role = Role.COUNTY) -> Any:
    return await p.client.get(f"/api/v1/indicators?school={school}&year={YEAR}", headers=p.auth(role))


async def test_indicators__a_small_school_with_problems_is_rated_d(p41: Province) -> None:
    code = await _school(p41, students=[(YEAR, 3, "710201"), (YEAR, 1, "990101")], qualified_years=[YEAR])
    async with p41.ctx.sessionmaker() as session:
        student = (
            await session.execute(Student.__table__.select().where(Student.school_code == code).limit(1))
        ).first()
        assert student is not None
        session.add(
            ProblemRecord(
                id=str(uuid7()),
                kind="duplicate_id",
                status="open",
                student_id=student.id,
                province_code="41",
                city_code="4101",
                county_code=COUNTY["41"],
                school_code=code,
                acting_side="here",
                detail="测试",
            )
        )
        await session.commit()
    response = await _indicators(p41, code)
    assert response.status_code == 200, response.text
    [school] = response.json()
    assert school["fm2"] == {"broken": True, "students_without_qualification": 1}
    assert school["fm3"] == {"broken": True, "open_duplicate_records": 1}
    assert school["fm5"] == {"broken": None, "provincial_count": 4, "national_count": None}
    assert school["fm8"]["broken"] is True and school["fm8"]["new_students"] == {
        str(YEAR): 4,
        str(YEAR - 1): 0,
    }
    assert school["broken"] == ["fm2", "fm3", "fm8"] and school["rating"] == "D"

    province = p41.auth(Role.PROVINCE)
    same = await p41.client.put(
        "/api/v1/indicators/national-counts",
        json={"counts": [{"school": code, "count": 4}]},
        headers=province,
    )
    assert same.status_code == 200, same.text
    assert (await _indicators(p41, code)).json()[0]["fm5"]["broken"] is False
    await p41.client.put(
        "/api/v1/indicators/national-counts",
        json={"counts": [{"school": code, "count": 5}]},
        headers=province,
    )
    assert (await _indicators(p41, code)).json()[0]["fm5"] == {
        "broken": True,
        "provincial_count": 4,
        "national_count": 5,
    }


async def test_indicators__a_healthy_school_is_not_forced_to_d(p41: Province) -> None:
    code = await _school(
        p41, students=[(YEAR, 125, "710201"), (YEAR - 1, 125, "710201")], qualified_years=[YEAR, YEAR - 1]
    )
    [school] = (await _indicators(p41, code, Role.CITY)).json()
    assert school["fm8"] == {
        "broken": False,
        "new_students": {str(YEAR): 125, str(YEAR - 1): 125},
        "in_school": 250,
        "in_school_snapshots": {},
    }
    assert school["broken"] == [] and school["rating"] is None


async def test_indicators__who_may_see_and_upload(p41: Province, p37: Province) -> None:
    code = await _school(p41, students=[(YEAR, 1, "710201")], qualified_years=[YEAR])
    assert (await _indicators(p41, code, Role.SCHOOL_REGISTRAR)).status_code == 403
    assert (await _indicators(p37, code, Role.PROVINCE)).json() == []
    assert (
        await p41.client.get("/api/v1/indicators?school=12", headers=p41.auth(Role.COUNTY))
    ).status_code == 422
    upload = "/api/v1/indicators/national-counts"
    body = {"counts": [{"school": code, "count": 1}]}
    assert (await p41.client.put(upload, json=body, headers=p41.auth(Role.COUNTY))).status_code == 403
    for bad, field in (
        ({"counts": [{"school": "4100000000", "count": 1}]}, "counts.0.school"),
        ({"counts": [{"school": code, "count": -1}]}, "count"),
        ({"counts": [{"school": code, "count": True}]}, "count"),
        ({"counts": []}, "counts"),
    ):
        response = await p41.client.put(upload, json=bad, headers=p41.auth(Role.PROVINCE))
        assert response.status_code == 422, response.text
        assert any(field in e["field"] for e in response.json()["errors"]), response.json()
