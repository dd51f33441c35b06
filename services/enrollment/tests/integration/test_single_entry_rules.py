"""Single entry applies the same registration rules as the import, each naming its field."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert

from services.enrollment.models import Major
from services.enrollment.tests.integration.conftest import SCHOOL, Province
from services.enrollment.tests.integration.imports_support import fresh_id
from shared.auth import Role

CLASS_2025 = f"class-{SCHOOL['37']}-2025-1"


async def _post(p: Province, **fields: Any) -> Any:
    body = {
        "name": "规则",
        "id_type": "resident_id",
        "id_number": fresh_id(p),
        "class_id": CLASS_2025,
        **fields,
    }
    return await p.client.post("/api/v1/students", json=body, headers=p.auth(Role.SCHOOL_REGISTRAR))


def _issues(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {e["field"]: e["reason_zh"] for e in response.json()["errors"]}


async def test_single_entry__unknown_and_unqualified_majors(p37: Province) -> None:
    async with p37.ctx.sessionmaker() as session:
        await session.execute(insert(Major).values(code="720101", name="学前教育").on_conflict_do_nothing())
        await session.commit()
    assert "不在中职专业目录" in _issues(await _post(p37, major_code="999999"))["major_code"]
    assert "招生资质" in _issues(await _post(p37, major_code="720101"))["major_code"]
    ok = await _post(p37, major_code="710201")
    assert ok.status_code == 201 and ok.json()["major_code"] == "710201"


async def test_single_entry__entry_age_vs_study_length(p37: Province) -> None:
    assert "入学年龄与学制不符" in _issues(await _post(p37, study_length=2))["study_length"]
    adult = await _post(p37, id_number=fresh_id(p37, birth_year=2005), study_length=2)
    assert adult.status_code == 201, adult.text
    arts = await _post(
        p37, id_number=fresh_id(p37, birth_year=2013), study_length=5, entry_route="primary_arts"
    )
    assert arts.status_code == 201, arts.text


async def test_single_entry__declared_birth_date_and_sex_must_match_the_id(p37: Province) -> None:
    number = fresh_id(p37)
    wrong_sex = "M" if int(number[16]) % 2 == 0 else "F"
    issues = _issues(await _post(p37, id_number=number, birth_date="2001-01-01", sex=wrong_sex))
    assert set(issues) == {"birth_date", "sex"}


async def test_single_entry__hk_macao_taiwan_needs_sex_and_birth_date(p37: Province) -> None:
    assert set(_issues(await _post(p37, id_type="hk_macao_taiwan", id_number="H1234567"))) == {
        "birth_date",
        "sex",
    }
    number = f"H{p37.rng.randint(10**7, 10**8 - 1)}"
    ok = await _post(p37, id_type="hk_macao_taiwan", id_number=number, sex="M", birth_date="2010-05-05")
    assert ok.status_code == 201, ok.text
    again = await _post(
        p37, id_type="hk_macao_taiwan", id_number=number.lower(), sex="M", birth_date="2010-05-05"
    )
    assert again.status_code == 409
