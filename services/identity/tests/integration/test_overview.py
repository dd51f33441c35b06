"""学生账号管理: the registrar's list of student accounts, its export and per-class statistics."""

from __future__ import annotations

import io
import uuid

import pytest
from openpyxl import load_workbook

from services.identity.tests.integration.conftest import (
    RunningIdentity,
    as_student,
    enrolled_student,
    face_photo,
    registrar,
)
from shared.idnumber import mask_student_number

pytestmark = pytest.mark.integration


async def test_student_accounts__filters_export_and_class_statistics(identity: RunningIdentity) -> None:
    class_id = "class-" + uuid.uuid4().hex[:8]
    with_face = await enrolled_student(identity, class_id=class_id)
    without = await enrolled_student(identity, class_id=class_id, name='=HYPERLINK("http://x")')
    headers = identity.mint(as_student(with_face))
    await identity.client.put("/api/v1/me/face-consent", json={"decision": "granted"}, headers=headers)
    captured = await identity.client.post(
        "/api/v1/me/face", files={"photo": face_photo("obama/obama_small.jpg")}, headers=headers
    )
    assert captured.status_code == 201, captured.text
    await identity.client.put(
        "/api/v1/me/face-consent", json={"decision": "declined"}, headers=identity.mint(as_student(without))
    )
    reg = identity.mint(registrar())

    listed = await identity.client.get("/api/v1/student-accounts", params={"class_id": class_id}, headers=reg)
    no_face = await identity.client.get(
        "/api/v1/student-accounts", params={"class_id": class_id, "face_captured": "false"}, headers=reg
    )
    stats = await identity.client.get(
        "/api/v1/student-accounts/statistics", params={"class_id": class_id}, headers=reg
    )
    export = await identity.client.get(
        "/api/v1/student-accounts/export.xlsx", params={"class_id": class_id}, headers=reg
    )
    outsider = await identity.client.get(
        "/api/v1/student-accounts",
        params={"class_id": class_id},
        headers=identity.mint(registrar("4141019999")),
    )

    assert listed.status_code == 200
    assert {r["student_id"]: r["face_captured"] for r in listed.json()} == {
        with_face.student_id: True,
        without.student_id: False,
    }
    assert [r["student_id"] for r in no_face.json()] == [without.student_id]
    # The student number is "G" + the ID number: never whole, neither listed nor exported.
    shown = {r["student_id"]: r["student_number"] for r in listed.json()}
    assert shown[with_face.student_id] == mask_student_number(with_face.username)
    assert with_face.username not in listed.text
    assert stats.json() == [
        {
            "school_code": "4141010001",
            "class_id": class_id,
            "students": 2,
            "activated": 0,
            "face_captured": 1,
            "face_declined": 1,
            "possible_proxies": 0,
        }
    ]
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3
    assert sorted(r[7] for r in rows[1:]) == ["否", "是"]
    # A name that looks like a formula stays text (no formula injection into the registrar's Excel).
    assert '\'=HYPERLINK("http://x")' in [r[1] for r in rows]
    assert all(c.data_type == "s" for c in sheet["B"][1:])
    assert not any(with_face.username in str(cell) for row in rows for cell in row)
    assert outsider.json() == []


async def test_student_accounts__a_student_may_not_list(identity: RunningIdentity) -> None:
    student = await enrolled_student(identity)
    response = await identity.client.get(
        "/api/v1/student-accounts", headers=identity.mint(as_student(student))
    )
    assert response.status_code == 403


async def test_student_accounts__bad_filter_names_the_field(identity: RunningIdentity) -> None:
    response = await identity.client.get(
        "/api/v1/student-accounts", params={"school_code": "abc"}, headers=identity.mint(registrar())
    )
    assert response.status_code == 422
    assert "school_code" in response.text


async def test_student_accounts__region_narrows_list_statistics_and_export(identity: RunningIdentity) -> None:
    class_id = "class-" + uuid.uuid4().hex[:8]
    student = await enrolled_student(identity, class_id=class_id)
    reg = identity.mint(registrar())

    async def counts(region: str) -> tuple[int, int, int]:
        params = {"class_id": class_id, "region": region}
        listed = await identity.client.get("/api/v1/student-accounts", params=params, headers=reg)
        stats = await identity.client.get("/api/v1/student-accounts/statistics", params=params, headers=reg)
        export = await identity.client.get("/api/v1/student-accounts/export.xlsx", params=params, headers=reg)
        assert listed.status_code == stats.status_code == export.status_code == 200
        sheet = load_workbook(io.BytesIO(export.content)).active
        assert sheet is not None
        return (
            len(listed.json()),
            sum(r["students"] for r in stats.json()),
            len(list(sheet.iter_rows(values_only=True))) - 1,
        )

    assert await counts("41") == (1, 1, 1), student.student_id
    assert await counts("37") == (0, 0, 0)
    assert await counts("419999") == (0, 0, 0)
    bad = await identity.client.get("/api/v1/student-accounts", params={"region": "411"}, headers=reg)
    assert bad.status_code == 422 and "region" in bad.text
