"""Dual-post (双岗) exports on the real servers: request, a second user approves, the requester
downloads the exact filtered list once; every step is in the audit log."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from services.enrollment.models.audit import AuditEntry
from services.enrollment.tests.integration.conftest import SCHOOL, Province
from services.enrollment.tests.integration.test_queries_api import (
    registered,
    registered_elsewhere,
    unique_surname,
)
from shared.auth import Principal, Role
from shared.testing import unique_name


class User:
    """One account with a stable id across requests (the fixture's tokens each get a new one)."""

    def __init__(self, p: Province, role: Role, org: str | None = None) -> None:
        self.principal = Principal(
            unique_name("acct"), unique_name("user"), role, org or SCHOOL[p.code], p.code
        )
        self.p = p

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.p.issuer.issue(self.principal)}"}

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.p.client.post(url, headers=self.headers, **kwargs)

    async def get(self, url: str) -> Any:
        return await self.p.client.get(url, headers=self.headers)


async def test_export__second_user_approves_and_the_requester_downloads_once(p41: Province) -> None:
    fragment = unique_surname()
    students = await registered(p41, fragment, 3)
    requester, leader = User(p41, Role.SCHOOL_REGISTRAR), User(p41, Role.SCHOOL_LEADER)
    elsewhere = User(p41, Role.SCHOOL_REGISTRAR, "4141019999")

    created = await requester.post(
        "/api/v1/exports", json={"filters": {"name": fragment}, "reason": "学期名单核对"}
    )
    assert created.status_code == 201, created.text
    export = created.json()
    assert (export["state"], export["count_at_request"]) == ("pending", 3)
    url = f"/api/v1/exports/{export['id']}"

    own = await requester.post(f"{url}/approval")
    assert own.status_code == 403 and "dual-post" in own.json()["type"]
    assert (await elsewhere.post(f"{url}/approval")).status_code == 404
    assert (await requester.get(f"{url}/download")).status_code == 409  # not approved yet

    approved = await leader.post(f"{url}/approval")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert (await leader.post(f"{url}/approval")).status_code == 409  # approved once
    assert (await leader.get(f"{url}/download")).status_code == 403

    download = await requester.get(f"{url}/download")
    assert download.status_code == 200, download.text
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert f"姓名包含={fragment}" in str(rows[0][0]) and "共 3 人" in str(rows[0][0])
    assert rows[1][:2] == ("学籍号", "姓名")
    assert sorted(r[1] for r in rows[2:]) == sorted(s["name"] for s, _ in students)
    for _, number in students:
        assert number not in str(rows)
    assert (await requester.get(f"{url}/download")).status_code == 409  # once only
    assert (await requester.get(url)).json()["state"] == "downloaded"

    async with p41.ctx.sessionmaker() as session:
        trail = list(
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor_id)
                .where(AuditEntry.subject_id == export["id"])
                .order_by(AuditEntry.seq)
            )
        )
    assert [tuple(t) for t in trail] == [
        ("export.requested", requester.principal.account_id),
        ("export.approved", leader.principal.account_id),
        ("export.downloaded", requester.principal.account_id),
    ]


async def test_export__of_a_region_holds_exactly_its_rows(p41: Province) -> None:
    fragment = unique_surname()
    in_city = await registered(p41, fragment, 2)
    await registered_elsewhere(p41, fragment)  # same name, another city: not in the export
    requester, approver = User(p41, Role.PROVINCE, "41"), User(p41, Role.PROVINCE, "41")

    created = await requester.post(
        "/api/v1/exports", json={"filters": {"name": fragment, "region": "4101"}, "reason": "地区名单核对"}
    )
    assert created.status_code == 201, created.text
    export = created.json()
    assert export["count_at_request"] == 2
    url = f"/api/v1/exports/{export['id']}"
    assert (await approver.post(f"{url}/approval")).status_code == 200
    download = await requester.get(f"{url}/download")
    assert download.status_code == 200, download.text
    rows = list(load_workbook(io.BytesIO(download.content)).active.iter_rows(values_only=True))
    assert "地区=4101" in str(rows[0][0]) and "共 2 人" in str(rows[0][0])
    assert sorted(r[1] for r in rows[2:]) == sorted(s["name"] for s, _ in in_city)


async def test_export__bad_requests(p41: Province) -> None:
    requester = User(p41, Role.SCHOOL_REGISTRAR)
    for body, field in (
        ({"filters": {}}, "reason"),
        ({"filters": {"grade": "x"}, "reason": "核对"}, "grade"),
        ({"filters": {"school": "1"}, "reason": "核对"}, "school"),
        ({"filters": {"region": "410"}, "reason": "核对"}, "region"),
        ({"filters": {"schol": "4141010001"}, "reason": "核对"}, "schol"),
    ):
        response = await requester.post("/api/v1/exports", json=body)
        assert response.status_code == 422, response.text
        assert any(field in e["field"] for e in response.json()["errors"])
    counselor = User(p41, Role.COUNSELOR)
    assert (await counselor.post("/api/v1/exports", json={"reason": "核对名单"})).status_code == 403
    assert (await requester.get("/api/v1/exports/nope")).status_code == 404
