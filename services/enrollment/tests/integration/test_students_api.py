"""Registering and reading student records over HTTP (issue 2, enrollment)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from services.enrollment.models import Student
from services.enrollment.tests.integration.conftest import COUNTY, SCHOOL, Province, envelope_of
from shared.auth import Role
from shared.bus.tables import OutboxMessage
from shared.idnumber import make_resident_id, mask_id_number, parse_resident_id

REGISTERED = "enrollment.student.registered"


async def _post(p: Province, body: dict[str, Any], role: Role = Role.SCHOOL_REGISTRAR) -> Any:
    return await p.client.post("/api/v1/students", json=body, headers=p.auth(role))


def _body(p: Province, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "王小明",
        "id_type": "resident_id",
        "id_number": p.new_id_number(),
        "class_id": f"class-{SCHOOL[p.code]}-2024-1",
    }
    body.update(overrides)
    return body


async def test_register__201_with_masked_id_and_formal_number(p37: Province) -> None:
    body = _body(p37)
    response = await _post(p37, body)
    assert response.status_code == 201, response.text
    student = response.json()
    rid = parse_resident_id(body["id_number"])
    # The formal number is "G" + the ID number, so it is masked like the ID itself.
    assert student["student_number"] == "G" + mask_id_number(rid.number)
    assert student["id_number_masked"] == mask_id_number(rid.number)
    assert rid.number not in response.text
    assert (student["sex"], student["birth_date"]) == (rid.sex, rid.birth_date.isoformat())
    assert student["status"] == "in_school" and student["frozen"] is False
    assert student["lineage"] == {
        "province": "37",
        "city": "3701",
        "county": "370102",
        "school": SCHOOL["37"],
    }
    assert student["school_name"] == "济南市历下职业中等专业学校"
    assert student["school_class"] == {"id": body["class_id"], "name": "2024级计算机应用1班"}
    assert (student["grade"], student["major_code"]) == (2024, "710201")
    assert (student["study_length"], student["study_form"]) == (3, "full_time")
    assert [h["action"] for h in student["history"]] == ["registered"]
    assert response.headers["location"] == f"/api/v1/students/{student['id']}"


async def test_register__event_is_written_in_the_same_transaction(p37: Province) -> None:
    student = await p37.register()
    rows = await p37.outbox_about(REGISTERED, student["id"])
    assert len(rows) == 1
    event = envelope_of(rows[0]).data["student"]
    assert event["id_number_masked"] == student["id_number_masked"]
    assert event["student_number"] == student["student_number"]
    async with p37.ctx.sessionmaker() as session:
        created_at = await session.scalar(select(Student.created_at).where(Student.id == student["id"]))
    # now() is the start time of the transaction: equal only when written by the same one.
    assert rows[0].created_at == created_at
    assert rows[0].exchange == "xueji.events"


async def test_register__bad_check_digit_is_422_naming_id_number(p37: Province) -> None:
    good = p37.new_id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = await _post(p37, _body(p37, id_number=bad))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    [issue] = response.json()["errors"]
    assert issue["field"] == "id_number"
    assert "校验位" in issue["reason_zh"] and "check digit" in issue["reason"]


async def test_register__future_birth_date_is_422_naming_id_number(p37: Province) -> None:
    from datetime import date

    from shared.idnumber import make_resident_id

    response = await _post(p37, _body(p37, id_number=make_resident_id("370102", date(2999, 1, 1), 1)))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "id_number"


async def test_register__duplicate_id_is_409_and_writes_nothing(p37: Province) -> None:
    first = await p37.register(name="赵一")
    id_number = parse_resident_id(first["student_number"][1:]).number
    async with p37.ctx.sessionmaker() as session:
        outbox_before = await session.scalar(select(func.count()).select_from(OutboxMessage))
    response = await _post(
        p37, _body(p37, name="钱二", id_number=id_number, class_id=f"class-{SCHOOL['37']}-2025-1")
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:xueji:problem:already-registered"
    for leaked in ("赵一", first["id"], first["school_name"], first["student_number"]):
        assert leaked not in response.text
    async with p37.ctx.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == outbox_before
        assert await session.scalar(select(func.count()).where(Student.name == "钱二")) == 0


async def test_register__lower_case_x_is_the_same_person(p37: Province) -> None:
    birth = date(2009, 3, 14)
    number = next(n for seq in range(1000) if (n := make_resident_id("370102", birth, seq)).endswith("X"))
    assert (await _post(p37, _body(p37, id_number=number))).status_code == 201
    assert (await _post(p37, _body(p37, id_number=number[:17] + "x"))).status_code == 409


async def test_register__first_generation_15_digit_form_is_the_same_person(p37: Province) -> None:
    eighteen = make_resident_id("370102", date(1990, 1 + p37.rng.randint(0, 11), 15), p37.rng.randint(0, 999))
    fifteen = eighteen[:6] + eighteen[8:17]
    assert (await _post(p37, _body(p37, id_number=eighteen))).status_code == 201
    response = await _post(p37, _body(p37, id_number=fifteen))
    assert response.status_code == 409, response.text


async def test_register__students_without_id_go_through_the_no_id_registration(p37: Province) -> None:
    response = await _post(p37, _body(p37, id_type="none"))
    assert response.status_code == 422
    [issue] = response.json()["errors"]
    assert issue["field"] == "id_type"
    assert "guardian evidence" in issue["reason"] and "监护人" in issue["reason_zh"]


async def test_register__class_of_another_school_is_422(p37: Province) -> None:
    response = await _post(p37, _body(p37, class_id="class-4141010001-2024-1"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "class_id"


async def test_register__only_a_school_registrar(p37: Province) -> None:
    for role in (Role.SCHOOL_LEADER, Role.COUNTY, Role.COUNSELOR):
        response = await _post(p37, _body(p37), role=role)
        assert response.status_code == 403, role


async def test_register__malformed_body_names_the_field(p37: Province) -> None:
    for field, value in (
        ("study_length", True),
        ("study_length", 7),
        ("study_form", "evening"),
        ("name", ""),
    ):
        response = await _post(p37, _body(p37, **{field: value}))
        assert response.status_code == 422, (field, value)
        assert response.json()["errors"][0]["field"] == f"body.{field}"
    response = await p37.client.post(
        "/api/v1/students",
        content=b"{not json",
        headers={**p37.auth(Role.SCHOOL_REGISTRAR), "content-type": "application/json"},
    )
    assert response.status_code == 422


async def test_get_student__without_token_is_401(p37: Province) -> None:
    student = await p37.register()
    response = await p37.client.get(f"/api/v1/students/{student['id']}")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_get_student__another_schools_registrar_is_404(p37: Province) -> None:
    student = await p37.register()
    response = await p37.client.get(
        f"/api/v1/students/{student['id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR, "4137019999")
    )
    assert response.status_code == 404
    assert student["name"] not in response.text


async def test_get_student__jurisdiction(p37: Province) -> None:
    student = await p37.register()
    url = f"/api/v1/students/{student['id']}"
    for role in (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER):
        response = await p37.client.get(url, headers=p37.auth(role))
        assert response.status_code == 200, role
        assert response.json()["id_number_masked"] == student["id_number_masked"]
    assert (await p37.client.get(url, headers=p37.auth(Role.COUNTY, "370103"))).status_code == 404
    # No counselor is assigned yet: a counselor sees only the students assigned to them.
    assert (await p37.client.get(url, headers=p37.auth(Role.COUNSELOR))).status_code == 404
    own = p37.auth(Role.STUDENT, student_id=student["id"])
    assert (await p37.client.get(url, headers=own)).status_code == 200
    other = p37.auth(Role.STUDENT, student_id="someone-else")
    assert (await p37.client.get(url, headers=other)).status_code == 404


async def test_list_students__by_number_inside_the_jurisdiction(p37: Province) -> None:
    student = await p37.register()
    query = {"student_number": student["student_number"]}
    mine = await p37.client.get("/api/v1/students", params=query, headers=p37.auth(Role.COUNTY))
    assert mine.status_code == 200
    assert [s["id"] for s in mine.json()["items"]] == [student["id"]]
    assert mine.json()["items"][0]["history"][0]["action"] == "registered"
    theirs = await p37.client.get(
        "/api/v1/students", params=query, headers=p37.auth(Role.COUNTY, COUNTY["41"])
    )
    assert theirs.json()["items"] == []


async def test_list_students__bad_limit_is_422(p37: Province) -> None:
    response = await p37.client.get("/api/v1/students", params={"limit": 0}, headers=p37.auth(Role.PROVINCE))
    assert response.status_code == 422


async def test_service__a_stopped_outbox_relay_is_neither_ready_nor_alive(p37: Province) -> None:
    relay = p37.app.state.ctx.relay
    await relay.stop(grace=1)
    try:
        ready = await p37.client.get("/readyz")
        alive = await p37.client.get("/healthz")
    finally:
        relay.start()
    assert ready.status_code == 503 and ready.json()["checks"]["outbox_relay"] == "stopped"
    assert alive.status_code == 503 and alive.json()["type"] == "urn:xueji:problem:not-alive"
    assert (await p37.client.get("/healthz")).json() == {"status": "alive"}
    assert (await p37.client.get("/readyz")).json()["status"] == "ready"


async def test_service__ready_and_documented(p37: Province) -> None:
    assert (await p37.client.get("/readyz")).json()["status"] == "ready"
    paths = (await p37.client.get("/openapi.json")).json()["paths"]
    assert {"/api/v1/students", "/api/v1/students/{student_id}"} <= set(paths)
