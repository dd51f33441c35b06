"""A returned item, edited and resubmitted, takes the approval chain the province configures at
the time of resubmission (业务流程配置), plus the levels a rule makes mandatory — never the chain it
was first submitted with."""

from __future__ import annotations

from services.enrollment.tests.integration.conftest import COUNTY, Province
from services.enrollment.tests.integration.test_workflow_api import _decide, _evidence
from shared.auth import Role


async def test_resubmitted_item__re_resolves_the_chain_and_keeps_the_mandatory_province(
    p37: Province,
) -> None:
    student = await p37.register(study_form="part_time")
    submitted = await p37.client.post(
        f"/api/v1/students/{student['id']}/status-changes",
        json={
            "type": "change_study_form",
            "reason": "恢复全日制",
            "evidence_ids": [await _evidence(p37)],
            "new_study_form": "full_time",
        },
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert submitted.status_code == 201, submitted.text
    item = submitted.json()
    assert item["chain"] == ["school", "county", "province"]  # default chain + back to full time
    assert (await _decide(p37, item["id"], Role.SCHOOL_LEADER)).status_code == 200
    returned = await _decide(p37, item["id"], Role.COUNTY, "reject", "缺少学生本人申请")
    assert returned.json()["state"] == "returned"

    # Meanwhile the province changes the flow for this business in the student's county.
    rule = {
        "business_type": "status_change:change_study_form",
        "region": COUNTY["37"],
        "levels": ["school", "city"],
    }
    put = await p37.client.put("/api/v1/approval-chains", json=rule, headers=p37.auth(Role.PROVINCE))
    assert put.status_code == 200, put.text
    try:
        again = await p37.client.post(
            f"/api/v1/reviews/{item['id']}/resubmit",
            json={"evidence_ids": [await _evidence(p37)]},
            headers=p37.auth(Role.SCHOOL_REGISTRAR),
        )
        assert again.status_code == 200, again.text
        resubmitted = again.json()
        assert resubmitted["chain"] == ["school", "city", "province"]
        assert (resubmitted["state"], resubmitted["step"], resubmitted["current_level"]) == (
            "pending",
            0,
            "school",
        )
        for role in (Role.SCHOOL_LEADER, Role.CITY):
            assert (await _decide(p37, item["id"], role)).status_code == 200, role
        assert (await _decide(p37, item["id"], Role.COUNTY)).status_code == 409  # no longer in the chain
        final = await _decide(p37, item["id"], Role.PROVINCE)
        assert final.status_code == 200 and final.json()["state"] == "approved", final.text
    finally:
        await p37.client.delete(
            f"/api/v1/approval-chains/{put.json()['id']}", headers=p37.auth(Role.PROVINCE)
        )
    record = await p37.client.get(
        f"/api/v1/students/{student['id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert record.json()["study_form"] == "full_time"
