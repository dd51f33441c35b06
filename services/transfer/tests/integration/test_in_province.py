"""Transfers inside one province over the API: the chain each case gets (escalation to the cities
and the province across cities or for a batch of 30), who reviews each level, evidence, the
configured chain, and the one-open-case rule. The test plays enrollment by publishing its events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.transfer.tests.integration.cases import (
    HENAN_REGISTRAR,
    act,
    apply_from_other_province,
    apply_in_province,
    new_student_number,
    pass_both_checks,
    read_case,
    student_summary,
    upload_evidence,
    wait_for_case,
)
from services.transfer.tests.integration.conftest import (
    HENAN_KAIFENG_SCHOOL,
    HENAN_OTHER_SCHOOL,
    HENAN_SCHOOL,
)
from services.transfer.tests.integration.support import Province
from shared.auth import Role
from shared.events.common import Lineage
from shared.events.enrollment import StudentMovedWithinProvince

pytestmark = pytest.mark.integration

CROSS_CITY_CHAIN = [
    "origin_school",
    "dest_school",
    "origin_county",
    "dest_county",
    "origin_city",
    "dest_city",
    "origin_province",
]
ZHENGZHOU_SCHOOL_NAME = "郑州市信息技术中等职业学校"


def reviewer(level: str, destination: Lineage) -> tuple[Role, str]:
    side = HENAN_SCHOOL if level.startswith("origin") else destination
    office = level.split("_", 1)[1]
    return {
        "school": (Role.SCHOOL_LEADER, side.school),
        "county": (Role.COUNTY, side.county),
        "city": (Role.CITY, side.city),
        "province": (Role.PROVINCE, side.province),
    }[office]


async def test_between_cities__every_level_up_to_the_province_reviews_then_the_record_moves(
    henan: Province,
) -> None:
    number = new_student_number()
    applied = await apply_in_province(henan, HENAN_KAIFENG_SCHOOL, student_number=number)
    assert applied["chain"] == CROSS_CITY_CHAIN
    assert applied["timeline"][0]["evidence"][0]["filename"] == "转学申请书.pdf"
    transfer_id = applied["id"]
    student = student_summary(number, HENAN_SCHOOL, school_name=ZHENGZHOU_SCHOOL_NAME)
    await pass_both_checks(henan, transfer_id, student)
    await wait_for_case(
        henan, transfer_id, where=lambda case: None not in (case["origin_checked"], case["dest_checked"])
    )

    for level in CROSS_CITY_CHAIN:
        who = reviewer(level, HENAN_KAIFENG_SCHOOL)
        queue = await henan.client.get("/api/v1/transfers/queue", headers=henan.headers(*who))
        assert transfer_id in [c["id"] for c in queue.json()["items"]], level
        # The tree's node narrows the queue: either side's school finds the case, another not.
        for node, found in (
            (HENAN_KAIFENG_SCHOOL.school, True),
            (HENAN_SCHOOL.school, True),
            ("4199999999", False),
        ):
            narrowed = await henan.client.get(
                "/api/v1/transfers/queue", params={"region": node}, headers=henan.headers(*who)
            )
            assert (transfer_id in [c["id"] for c in narrowed.json()["items"]]) is found, (level, node)
        # Someone who sees the case but does not review this level.
        wrong = (Role.PROVINCE, "41") if level != "origin_province" else (Role.COUNTY, HENAN_SCHOOL.county)
        await act(henan, transfer_id, "approve", wrong, expect=403)
        await act(henan, transfer_id, "approve", who, opinion=f"{level} 同意")

    moving = await read_case(henan, transfer_id)
    assert moving["state"] == "RECORDS_MOVING"
    [approved] = [r for r in await henan.outbox(transfer_id) if r.event_type == "transfer.transfer.approved"]
    data = json.loads(approved.body)["data"]
    assert (data["kind"], data["destination"]["school"]) == ("in_province", HENAN_KAIFENG_SCHOOL.school)

    moved = student.model_copy(update={"lineage": HENAN_KAIFENG_SCHOOL})
    await henan.publish(
        StudentMovedWithinProvince(student=moved, transfer_id=transfer_id, from_lineage=HENAN_SCHOOL)
    )

    done = await wait_for_case(henan, transfer_id, state="COMPLETED")
    assert [line["action"] for line in done["timeline"]] == ["apply", *["approve"] * 7, "records_moved"]
    # Nothing crosses a province border in a transfer inside one.
    assert not [r for r in await henan.outbox(transfer_id) if r.exchange != "xueji.events"]


async def test_same_city__the_bureaus_review_without_the_province(henan: Province) -> None:
    applied = await apply_in_province(henan, HENAN_OTHER_SCHOOL)
    assert applied["chain"] == ["origin_school", "dest_school", "origin_county", "dest_county"]
    assert applied["state_label"] == "待转出学校审核"


async def test_batch__thirty_students_go_up_to_the_province_twenty_nine_do_not(henan: Province) -> None:
    async def batch(size: int) -> dict[str, Any]:
        response = await henan.client.post(
            "/api/v1/transfers/batches",
            json={
                "destination_school": HENAN_OTHER_SCHOOL.school,
                "reason": "专业调整",
                "evidence_ids": [
                    (await upload_evidence(henan, henan.headers(*HENAN_REGISTRAR)))["evidence_id"]
                ],
                "students": [
                    {"student_number": new_student_number(), "student_name": f"学生{i}", "grade": 2025}
                    for i in range(size)
                ],
            },
            headers=henan.headers(*HENAN_REGISTRAR),
        )
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    thirty, twenty_nine = await batch(30), await batch(29)
    assert {tuple(c["chain"]) for c in thirty["items"]} == {
        ("origin_school", "dest_school", "origin_county", "dest_county", "origin_city", "origin_province")
    }
    assert {tuple(c["chain"]) for c in twenty_nine["items"]} == {
        ("origin_school", "dest_school", "origin_county", "dest_county")
    }
    assert len({c["batch_id"] for c in thirty["items"]}) == 1


async def test_apply__without_the_handwritten_request_is_422_naming_the_field(henan: Province) -> None:
    response = await henan.client.post(
        "/api/v1/transfers",
        json={
            "kind": "in_province",
            "student_number": new_student_number(),
            "student_name": "王五",
            "destination_school": HENAN_OTHER_SCHOOL.school,
            "grade": 2025,
            "reason": "家庭搬迁",
        },
        headers=henan.headers(*HENAN_REGISTRAR),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "evidence_ids"


async def test_apply__someone_elses_evidence_is_refused(henan: Province) -> None:
    other_registrar = henan.headers(Role.SCHOOL_REGISTRAR, HENAN_OTHER_SCHOOL.school)
    foreign = (await upload_evidence(henan, other_registrar))["evidence_id"]
    refused = await apply_in_province(henan, HENAN_OTHER_SCHOOL, evidence_ids=[foreign], expect=422)
    assert refused["errors"][0]["field"] == "evidence_ids[0]"


async def test_apply__a_second_open_case_for_the_student_is_409(henan: Province) -> None:
    number = new_student_number()
    await apply_in_province(henan, HENAN_OTHER_SCHOOL, student_number=number)
    refused = await apply_in_province(henan, HENAN_KAIFENG_SCHOOL, student_number=number, expect=409)
    assert refused["type"].endswith("transfer-open")


async def test_check__a_student_of_another_school_is_rejected_by_the_system(henan: Province) -> None:
    number = new_student_number()
    transfer_id = (await apply_in_province(henan, HENAN_OTHER_SCHOOL, student_number=number))["id"]
    await pass_both_checks(
        henan, transfer_id, student_summary(number, HENAN_OTHER_SCHOOL, school_name=ZHENGZHOU_SCHOOL_NAME)
    )
    case = await wait_for_case(henan, transfer_id, state="REJECTED")
    assert case["check_reasons"] == ["该学生学籍不在申请转出的学校"]


async def test_chains__the_province_configures_its_chain_and_new_cases_follow_it(henan: Province) -> None:
    province = henan.headers(Role.PROVINCE, "41")
    bad = await henan.client.put(
        "/api/v1/transfer-chains/in_province",
        json={"levels": ["dest_school", "origin_school"]},
        headers=province,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "levels"
    not_province = await henan.client.put(
        "/api/v1/transfer-chains/in_province",
        json={"levels": ["origin_school"]},
        headers=henan.headers(*HENAN_REGISTRAR),
    )
    assert not_province.status_code == 403
    levels = ["origin_school", "origin_county", "dest_school", "dest_county", "dest_city"]
    ok = await henan.client.put(
        "/api/v1/transfer-chains/joint_programme", json={"levels": levels}, headers=province
    )
    assert ok.status_code == 200, ok.text
    applied = await apply_in_province(henan, HENAN_OTHER_SCHOOL, kind="joint_programme")
    assert applied["chain"] == levels
    listed = await henan.client.get("/api/v1/transfer-chains", headers=province)
    assert {c["kind"]: c["chain"] for c in listed.json()}["joint_programme"] == levels


async def test_apply__across_provinces_the_partner_must_be_configured(henan: Province) -> None:
    refused = await apply_from_other_province(
        henan,
        "44",
        kind="after_graduation",
        student_name="赵六",
        reason="初中毕业后到河南就读",
        grade=2026,
        expect=422,
    )
    assert refused["errors"][0]["field"] == "origin_province"
