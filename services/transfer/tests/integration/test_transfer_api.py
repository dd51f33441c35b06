"""The destination province's transfer API against the real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.transfer.tests.integration.conftest import HENAN_OTHER_SCHOOL, HENAN_SCHOOL
from services.transfer.tests.integration.support import Province, data_of, eventually
from shared.auth import Role
from shared.events.enrollment import DestinationChecked
from shared.idnumber import mask_student_number

pytestmark = pytest.mark.integration

REGISTRAR = (Role.SCHOOL_REGISTRAR, HENAN_SCHOOL.school)
LEADER = (Role.SCHOOL_LEADER, HENAN_SCHOOL.school)
COUNTY = (Role.COUNTY, HENAN_SCHOOL.county)


def application(**overrides: Any) -> dict[str, Any]:
    body = {
        "student_number": f"G{uuid.uuid4().int % 10**17:017d}X",
        "student_name": "张三",
        "origin_province": "37",
        "destination_class_id": "class-4141010001-2025-1",
        "grade": 2025,
        "reason": "随父母工作调动",
    }
    return {**body, **overrides}


async def apply(henan: Province, **overrides: Any) -> dict[str, Any]:
    response = await henan.client.post(
        "/api/v1/transfers", json=application(**overrides), headers=henan.headers(*REGISTRAR)
    )
    assert response.status_code == 201, response.text
    case: dict[str, Any] = response.json()
    return case


async def test_apply__creates_the_case_and_writes_both_events(henan: Province) -> None:
    case = await apply(henan)

    assert (case["state"], case["state_label"]) == ("APPLIED", "转入学校发起")
    assert case["pending_level"] == "dest_school"
    assert {k: v for k, v in case.items() if k.startswith("dest_")} == {
        "dest_province": "41",
        "dest_city": "4101",
        "dest_county": "410102",
        "dest_school": "4141010001",
        "dest_school_name": "郑州市信息技术中等职业学校",
        "dest_class_id": "class-4141010001-2025-1",
        "dest_checked": None,
        "dest_check_reasons": [],
    }
    assert case["origin_province"] == "37" and case["origin_school"] is None
    assert (case["origin_checked"], case["origin_check_reasons"]) == (None, [])
    [step] = case["timeline"]
    assert step["action"] == "apply" and step["actor_role"] == "school_registrar"
    assert step["opinion"] == "随父母工作调动"

    rows = await henan.outbox(case["id"])
    assert [(r.event_type, r.exchange, r.routing_key) for r in rows] == [
        ("transfer.transfer.requested", "xueji.events", "transfer.transfer.requested"),
        ("transfer.case.opened", "xueji.interprovince.out", "37.transfer.case.opened"),
    ]
    opened = data_of(rows[1])
    assert opened["applicant"]["username"] == "41-school_registrar-4141010001"
    assert opened["destination"]["county"] == "410102"
    assert all(f'"correlation_id":"{case["id"]}"' in r.body.decode() for r in rows)
    assert rows[1].headers["x-xueji-to-province"] == "37"  # signed for the partner


async def test_apply__a_second_open_case_for_the_student_conflicts(henan: Province) -> None:
    number = application()["student_number"]
    case = await apply(henan, student_number=number)
    # A formal number is "G" + the ID number: the case shows it masked.
    assert case["student_number"] == mask_student_number(number) != number
    again = await henan.client.post(
        "/api/v1/transfers",
        json=application(student_number=number),
        headers=henan.headers(Role.SCHOOL_REGISTRAR, HENAN_OTHER_SCHOOL.school),
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_apply__only_a_school_registrar(henan: Province) -> None:
    response = await henan.client.post(
        "/api/v1/transfers", json=application(), headers=henan.headers(*LEADER)
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"origin_province": "41"}, "origin_province"),
        ({"origin_province": "11"}, "origin_province"),
        ({"origin_province": "3"}, "body.origin_province"),
        ({"grade": True}, "body.grade"),
        ({"grade": "2025年"}, "body.grade"),
        ({"student_number": ""}, "body.student_number"),
        ({"reason": "   "}, "body.reason"),
        ({"unexpected": 1}, "body.unexpected"),
    ],
)
async def test_apply__bad_input_names_the_field(
    henan: Province, overrides: dict[str, Any], field: str
) -> None:
    response = await henan.client.post(
        "/api/v1/transfers", json=application(**overrides), headers=henan.headers(*REGISTRAR)
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]]
    assert all(e["reason_zh"] for e in problem["errors"])


async def test_apply__an_unknown_school_is_refused(henan: Province) -> None:
    response = await henan.client.post(
        "/api/v1/transfers", json=application(), headers=henan.headers(Role.SCHOOL_REGISTRAR, "4141019999")
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "destination.school"


async def test_approve__before_the_checks_is_refused(henan: Province) -> None:
    case = await apply(henan)
    response = await henan.client.post(
        f"/api/v1/transfers/{case['id']}/approve", headers=henan.headers(*LEADER)
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:xueji:problem:transition-not-allowed"
    assert "check" in problem["detail"] and "核验" in problem["detail_zh"]


async def test_approve__by_a_role_not_pending_is_forbidden(henan: Province) -> None:
    case = await apply(henan)
    for role, org in (COUNTY, (Role.PROVINCE, "41"), (Role.CITY, "4101")):
        response = await henan.client.post(
            f"/api/v1/transfers/{case['id']}/approve", headers=henan.headers(role, org)
        )
        assert response.status_code == 403, (role, response.text)


async def test_get__another_schools_registrar_cannot_see_the_case(henan: Province) -> None:
    case = await apply(henan)
    other = henan.headers(Role.SCHOOL_REGISTRAR, HENAN_OTHER_SCHOOL.school)
    assert (await henan.client.get(f"/api/v1/transfers/{case['id']}", headers=other)).status_code == 404
    listed = await henan.client.get("/api/v1/transfers", headers=other)
    assert case["id"] not in [c["id"] for c in listed.json()["items"]]
    approve = await henan.client.post(f"/api/v1/transfers/{case['id']}/approve", headers=other)
    assert approve.status_code == 404


async def test_get__the_destinations_county_city_and_province_see_the_case(henan: Province) -> None:
    case = await apply(henan)
    for role, org in (COUNTY, (Role.CITY, "4101"), (Role.PROVINCE, "41"), LEADER):
        response = await henan.client.get(f"/api/v1/transfers/{case['id']}", headers=henan.headers(role, org))
        assert response.status_code == 200, (role, response.text)
    other_county = henan.headers(Role.COUNTY, HENAN_OTHER_SCHOOL.county)
    assert (
        await henan.client.get(f"/api/v1/transfers/{case['id']}", headers=other_county)
    ).status_code == 404


async def test_reject__needs_an_opinion(henan: Province) -> None:
    case = await apply(henan)
    url = f"/api/v1/transfers/{case['id']}/reject"
    for body in ({}, {"opinion": "  "}):
        response = await henan.client.post(url, json=body, headers=henan.headers(*LEADER))
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "body.opinion"
    response = await henan.client.post(url, json={"opinion": "班额已满"}, headers=henan.headers(*LEADER))
    assert response.status_code == 200
    rejected = response.json()
    assert (rejected["state"], rejected["state_label"]) == ("REJECTED", "已驳回")
    assert rejected["timeline"][-1]["opinion"] == "班额已满"
    [step] = [r for r in await henan.outbox(case["id"]) if r.event_type == "transfer.case.step"]
    assert step.routing_key == "37.transfer.case.step"
    assert data_of(step)["level"] == "dest_school"


async def test_cancel__by_the_applicant_then_nothing_more(henan: Province) -> None:
    number = application()["student_number"]
    case = await apply(henan, student_number=number)
    url = f"/api/v1/transfers/{case['id']}"
    assert (await henan.client.post(f"{url}/cancel", headers=henan.headers(*LEADER))).status_code == 403
    cancelled = await henan.client.post(
        f"{url}/cancel", json={"opinion": "家长撤回"}, headers=henan.headers(*REGISTRAR)
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["state_label"] == "已撤销"
    again = await henan.client.post(f"{url}/cancel", headers=henan.headers(*REGISTRAR))
    assert again.status_code == 409
    # The student may apply again once the earlier case is closed.
    await apply(henan, student_number=number)


async def test_queue__shows_what_the_caller_may_review(henan: Province) -> None:
    case = await apply(henan)

    async def queue(role: Role, org: str) -> list[str]:
        response = await henan.client.get("/api/v1/transfers/queue", headers=henan.headers(role, org))
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"]]

    assert case["id"] in await queue(*LEADER)
    assert case["id"] not in await queue(*COUNTY)
    assert case["id"] not in await queue(Role.SCHOOL_LEADER, HENAN_OTHER_SCHOOL.school)


async def test_destination_checked__is_recorded_on_the_case(henan: Province) -> None:
    case = await apply(henan)
    await henan.publish(DestinationChecked(transfer_id=case["id"], ok=False, reasons=["班级不存在"]))

    async def recorded() -> dict[str, Any] | None:
        response = await henan.client.get(
            f"/api/v1/transfers/{case['id']}", headers=henan.headers(*REGISTRAR)
        )
        body: dict[str, Any] = response.json()
        return body if body["dest_checked"] is not None else None

    checked = await eventually(recorded)
    assert (checked["dest_checked"], checked["dest_check_reasons"]) == (False, ["班级不存在"])
    assert checked["state"] == "APPLIED"


async def test_get__a_malformed_id_names_the_field(henan: Province) -> None:
    response = await henan.client.get("/api/v1/transfers/not-a-uuid", headers=henan.headers(*REGISTRAR))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.transfer_id"
    missing = await henan.client.get(f"/api/v1/transfers/{uuid.uuid4()}", headers=henan.headers(*REGISTRAR))
    assert missing.status_code == 404
    assert (await henan.client.get("/api/v1/transfers")).status_code == 401
