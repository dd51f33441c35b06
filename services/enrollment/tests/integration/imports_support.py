"""Helpers for the import tests: a fresh class per test, workbooks, waiting for an import."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.enrollment.imports.template import filled_workbook
from services.enrollment.models import SchoolClass
from services.enrollment.tests.integration.conftest import COUNTY, SCHOOL, Province
from shared.auth import Role
from shared.idnumber import make_resident_id
from shared.testing import eventually, unique_name


async def new_class(p: Province, grade: int = 2025, major: str = "710201") -> str:
    """Each class is imported once: every test gets its own."""
    class_id = unique_name("class")
    async with p.ctx.sessionmaker() as session:
        session.add(
            SchoolClass(
                id=class_id, school_code=SCHOOL[p.code], name=f"{class_id}班", grade=grade, major_code=major
            )
        )
        await session.commit()
    return class_id


def fresh_id(p: Province, birth_year: int = 2010) -> str:
    birth = date(birth_year, p.rng.randint(1, 8), p.rng.randint(1, 28))
    return make_resident_id(COUNTY[p.code], birth, p.rng.randint(0, 999))


def row(name: str, id_number: str, **cells: Any) -> dict[str, Any]:
    return {"姓名": name, "身份证号": id_number, "学制": 3, "学习形式": "全日制", **cells}


def workbook(rows: list[dict[str, Any]]) -> bytes:
    return filled_workbook("resident_id", rows)


async def upload(p: Province, class_id: str, content: bytes, name: str = "class.xlsx") -> Any:
    return await p.client.post(
        "/api/v1/registrations/imports",
        files={"file": (name, content, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
        data={"class_id": class_id},
        headers=p.auth(Role.SCHOOL_REGISTRAR),
    )


async def finished(
    p: Province, import_id: str, within: float = 60.0, *, school: str | None = None
) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await p.client.get(
            f"/api/v1/registrations/imports/{import_id}", headers=p.auth(Role.SCHOOL_REGISTRAR, school)
        )
        body: dict[str, Any] = response.json()
        return body if body.get("status") == "done" else None

    return await eventually(probe, within=within)


async def report(p: Province, import_id: str, *, school: str | None = None) -> dict[str, Any]:
    response = await p.client.get(
        f"/api/v1/registrations/imports/{import_id}/report", headers=p.auth(Role.SCHOOL_REGISTRAR, school)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
