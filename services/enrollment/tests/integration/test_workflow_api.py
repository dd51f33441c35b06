"""Issue 3, workflow part: organisation data, reviews and approval chains, students without ID,
status changes, key-data changes and filing — over HTTP on the real servers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from services.enrollment.models import Student
from services.enrollment.tests.integration.conftest import SCHOOL, Province, envelope_of
from shared.auth import Role
from shared.idnumber import make_resident_id, mask_id_number
from shared.testing import unique_name

PDF = b"%PDF-1.4\n% evidence\n"
CLASS_2024 = f"class-{SCHOOL['37']}-2024-1"
CLASS_2025 = f"class-{SCHOOL['37']}-2025-1"
CHAIN_UP = [
    (Role.SCHOOL_LEADER, "school"),
    (Role.COUNTY, "county"),
    (Role.CITY, "city"),
    (Role.PROVINCE, "province"),
]


@contextmanager
def pinned_today(p: Province, on: date) -> Iterator[None]:
    p.ctx.extras["today"] = lambda: on
    try:
        yield
    finally:
        p.ctx.extras.pop("today", None)


async def _evidence(p: Province) -> str:
    response = await p.client.post(
        "/api/v1/evidence",
        files={"file": ("proof.pdf", PDF + unique_name().encode(), "application/pdf")},
        headers=p.auth(Role.SCHOOL_REGISTRAR),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert len(body["sha256"]) == 64
    return str(body["id"])


async def _decide(p: Province, item_id: str, role: Role, decision: str = "approve", opinion: str = "") -> Any:
    return await p.client.post(
        f"/api/v1/reviews/{item_id}/decision",
        json={"decision": decision, "opinion": opinion},
        headers=p.auth(role),
    )


def _no_id_body(evidence: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "阿依古丽·买买提",
        "sex": "F",
        "birth_date": "2010-05-01",
        "class_id": CLASS_2025,
        "guardian": {
            "name": "买买提",
            "relation": "father",
            "id_number": make_resident_id("370102", date(1980, 3, 3), 11),
        },
        "evidence_ids": [evidence],
    }
    body.update(overrides)
    return body


def _problem_field(response: Any) -> str:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    errors = response.json().get("errors") or [{}]
    return str(errors[0].get("field", ""))


# --- organisation data --------------------------------------------------------------------------


async def test_orgs__province_registers_school_and_qualification_school_opens_class(p37: Province) -> None:
    county = "3701" + str(p37.rng.randint(10, 99))
    response = await p37.client.post(
        "/api/v1/regions", json={"code": county + "", "name": "测试区"}, headers=p37.auth(Role.PROVINCE)
    )
    assert response.status_code == 201, response.text
    assert response.json()["parent_code"] == "3701"
    code = "37" + str(p37.rng.randint(10**7, 10**8 - 1))
    school = {"code": code, "name": "测试职业学校", "type": "secondary_vocational", "county_code": county}
    forbidden = await p37.client.post("/api/v1/schools", json=school, headers=p37.auth(Role.SCHOOL_REGISTRAR))
    assert forbidden.status_code == 403
    created = await p37.client.post("/api/v1/schools", json=school, headers=p37.auth(Role.PROVINCE))
    assert created.status_code == 201, created.text
    assert created.json()["lineage"] == {"province": "37", "city": "3701", "county": county, "school": code}
    assert len(await p37.outbox_about("enrollment.school.registered", code)) == 1
    again = await p37.client.post("/api/v1/schools", json=school, headers=p37.auth(Role.PROVINCE))
    assert again.status_code == 409

    registrar = p37.auth(Role.SCHOOL_REGISTRAR, code)
    klass = {"name": "2026级计算机应用1班", "grade": 2026, "major_code": "710201"}
    unqualified = await p37.client.post(f"/api/v1/schools/{code}/classes", json=klass, headers=registrar)
    assert unqualified.status_code == 422 and _problem_field(unqualified) == "major_code"
    qualification = {"school_code": code, "major_code": "710201", "year": 2026}
    filed = await p37.client.post(
        "/api/v1/qualifications", json=qualification, headers=p37.auth(Role.PROVINCE)
    )
    assert filed.status_code == 201, filed.text
    opened = await p37.client.post(f"/api/v1/schools/{code}/classes", json=klass, headers=registrar)
    assert opened.status_code == 201, opened.text
    [event] = await p37.outbox_about("enrollment.class.registered", opened.json()["id"])
    assert envelope_of(event).data["grade"] == 2026
    other_school = await p37.client.get(
        f"/api/v1/schools/{code}/classes", headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert other_school.status_code == 404  # another school's registrar sees nothing of it
    grades = await p37.client.get(f"/api/v1/schools/{code}/grades", headers=p37.auth(Role.COUNTY, county))
    assert grades.json() == [2026]
    # Taken over by the city bureau (市直): its chains skip the county.
    patched = await p37.client.patch(
        f"/api/v1/schools/{code}", json={"supervisor_code": "3701"}, headers=p37.auth(Role.PROVINCE)
    )
    assert patched.status_code == 200 and patched.json()["supervisor_code"] == "3701"
    assert len(await p37.outbox_about("enrollment.school.changed", code)) == 1
    chain = await p37.client.get(
        f"/api/v1/approval-chains/resolve?business_type=registration_no_id&school_code={code}",
        headers=p37.auth(Role.PROVINCE),
    )
    assert chain.json()["levels"] == ["school", "city", "province"]


async def test_orgs__campus_boundary_validated_and_published(p37: Province) -> None:
    url = f"/api/v1/schools/{SCHOOL['37']}/campuses"
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    swapped = {
        "type": "Polygon",
        "coordinates": [[[36.6, 117.0], [36.6, 117.01], [36.61, 117.01], [36.6, 117.0]]],
    }
    bad = await p37.client.post(
        url, json={"name": "北校区", "crs": "WGS-84", "boundary": swapped}, headers=registrar
    )
    assert bad.status_code == 422 and _problem_field(bad) == "boundary"
    assert "中国" in bad.json()["errors"][0]["reason_zh"]
    no_crs = await p37.client.post(url, json={"name": "北校区", "boundary": swapped}, headers=registrar)
    assert no_crs.status_code == 422
    square = [[117.07, 36.66], [117.072, 36.66], [117.072, 36.662], [117.07, 36.662], [117.07, 36.66]]
    boundary = {"type": "Polygon", "coordinates": [square]}
    good = await p37.client.post(
        url, json={"name": "北校区", "crs": "GCJ-02", "boundary": boundary}, headers=registrar
    )
    assert good.status_code == 201, good.text
    [event] = await p37.outbox_about("enrollment.campus.registered", good.json()["id"])
    assert envelope_of(event).data["crs"] == "GCJ-02"
    moved = [[117.07, 36.66], [117.073, 36.66], [117.073, 36.663], [117.07, 36.663], [117.07, 36.66]]
    changed = await p37.client.put(
        f"{url}/{good.json()['id']}",
        json={"name": "北校区", "crs": "WGS-84", "boundary": {"type": "Polygon", "coordinates": [moved]}},
        headers=registrar,
    )
    assert changed.status_code == 200, changed.text
    assert len(await p37.outbox_about("enrollment.campus.changed", good.json()["id"])) == 1


async def test_orgs__region_code_outside_the_province_refused(p37: Province) -> None:
    response = await p37.client.post(
        "/api/v1/regions", json={"code": "410105", "name": "外省区"}, headers=p37.auth(Role.PROVINCE)
    )
    assert response.status_code == 422 and _problem_field(response) == "code"


# --- students without ID through the whole chain ---------------------------------------------------


async def test_no_id__reviewed_up_to_province_then_registered_with_temporary_number(p37: Province) -> None:
    evidence = await _evidence(p37)
    submitted = await p37.client.post(
        "/api/v1/students/without-id", json=_no_id_body(evidence), headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert submitted.status_code == 201, submitted.text
    item = submitted.json()
    assert item["chain"] == ["school", "county", "city", "province"]
    guardian_number = _no_id_body(evidence)["guardian"]["id_number"]
    assert guardian_number not in submitted.text
    assert item["payload"]["guardian"]["id_number"] == mask_id_number(guardian_number)

    # The county cannot decide before the school leader; the registrar cannot decide at all.
    early = await _decide(p37, item["id"], Role.COUNTY)
    assert early.status_code == 409
    assert (await _decide(p37, item["id"], Role.SCHOOL_REGISTRAR)).status_code == 403
    elsewhere = await p37.client.get("/api/v1/reviews", headers=p37.auth(Role.COUNTY, "370199"))
    assert item["id"] not in [i["id"] for i in elsewhere.json()["items"]]  # another county's queue
    for role, level in CHAIN_UP:
        queue = await p37.client.get("/api/v1/reviews", headers=p37.auth(role))
        assert item["id"] in [i["id"] for i in queue.json()["items"]], level
        assert not await p37.outbox_about("enrollment.student.registered", item["id"])
        decided = await _decide(p37, item["id"], role, opinion="同意")
        assert decided.status_code == 200, decided.text
    final = decided.json()
    assert final["state"] == "approved" and final["student_id"]
    assert [d["action"] for d in final["decisions"]] == [
        "submitted",
        "approve",
        "approve",
        "approve",
        "approve",
    ]
    student = (
        await p37.client.get(
            f"/api/v1/students/{final['student_id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR)
        )
    ).json()
    assert student["student_number"] == "L" + student["id"].replace("-", "")
    assert (student["id_type"], student["status"], student["sex"]) == ("none", "in_school", "F")
    assert len(await p37.outbox_about("enrollment.student.registered", final["student_id"])) == 1
    download = await p37.client.get(f"/api/v1/evidence/{evidence}", headers=p37.auth(Role.PROVINCE))
    assert download.status_code == 200 and download.content.startswith(PDF)
    assert download.headers["content-type"] == "application/pdf"
    other_school = p37.auth(Role.SCHOOL_REGISTRAR, "3737010099")
    assert (await p37.client.get(f"/api/v1/evidence/{evidence}", headers=other_school)).status_code == 404


async def test_reviews__filtered_by_school_and_region_within_jurisdiction(p37: Province) -> None:
    submitted = await p37.client.post(
        "/api/v1/students/without-id",
        json=_no_id_body(await _evidence(p37)),
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert submitted.status_code == 201, submitted.text
    item = submitted.json()
    assert (item["school_code"], item["county_code"], item["city_code"], item["province_code"]) == (
        SCHOOL["37"],
        "370102",
        "3701",
        "37",
    )

    async def listed(**params: str) -> list[str]:
        response = await p37.client.get(
            "/api/v1/reviews", params={"queue": "false", **params}, headers=p37.auth(Role.PROVINCE)
        )
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    for region in ("37", "3701", "370102"):
        assert item["id"] in await listed(region=region), region
    assert item["id"] in await listed(school=SCHOOL["37"])
    assert item["id"] not in await listed(region="370199")
    assert item["id"] not in await listed(school="3737010099")
    # A filter narrows, never widens: another county's bureau asking for this county sees nothing of it.
    other = await p37.client.get(
        "/api/v1/reviews", params={"region": "370102"}, headers=p37.auth(Role.COUNTY, "370199")
    )
    assert item["id"] not in [i["id"] for i in other.json()["items"]]
    bad = await p37.client.get("/api/v1/reviews", params={"region": "371"}, headers=p37.auth(Role.PROVINCE))
    assert bad.status_code in (400, 422)


async def test_reviews__by_family_each_tab_pages_at_the_service_and_counts_add_up(p37: Province) -> None:
    no_id = await p37.client.post(
        "/api/v1/students/without-id",
        json=_no_id_body(await _evidence(p37)),
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert no_id.status_code == 201, no_id.text
    student = await p37.register()
    change = await p37.client.post(
        f"/api/v1/students/{student['id']}/status-changes",
        json={"type": "withdraw", "reason": "家庭原因", "evidence_ids": [await _evidence(p37)]},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert change.status_code == 201, change.text
    assert change.json()["business_type"] == "status_change:withdraw"
    province = p37.auth(Role.PROVINCE)
    scope = {"queue": "false", "state": "pending", "school": SCHOOL["37"]}

    async def listed(**params: str) -> tuple[list[str], int]:
        response = await p37.client.get(
            "/api/v1/reviews", params={**scope, "limit": "200", **params}, headers=province
        )
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]], response.json()["total"]

    changes, _ = await listed(family="status_change")
    registrations, _ = await listed(family="registration_no_id")
    assert change.json()["id"] in changes and change.json()["id"] not in registrations
    assert no_id.json()["id"] in registrations and no_id.json()["id"] not in changes

    counted = await p37.client.get("/api/v1/reviews/families", params=scope, headers=province)
    assert counted.status_code == 200, counted.text
    counts = counted.json()["counts"]
    assert counts["status_change"] >= 1 and counts["registration_no_id"] >= 1
    for family, count in counts.items():
        assert (await listed(family=family, limit="1"))[1] == count, family
    assert sum(counts.values()) == (await listed(limit="1"))[1]
    # Another county's bureau counts none of this school's items.
    elsewhere = await p37.client.get(
        "/api/v1/reviews/families", params=scope, headers=p37.auth(Role.COUNTY, "370199")
    )
    assert elsewhere.json()["counts"] == {}
    unknown = await p37.client.get("/api/v1/reviews", params={"family": "status"}, headers=province)
    assert unknown.status_code in (400, 422) and "family" in unknown.text


async def test_no_id__rejection_returns_to_registrar_who_edits_and_resubmits(p37: Province) -> None:
    evidence = await _evidence(p37)
    item = (
        await p37.client.post(
            "/api/v1/students/without-id", json=_no_id_body(evidence), headers=p37.auth(Role.SCHOOL_REGISTRAR)
        )
    ).json()
    assert (await _decide(p37, item["id"], Role.SCHOOL_LEADER)).status_code == 200
    no_reason = await _decide(p37, item["id"], Role.COUNTY, "reject")
    assert no_reason.status_code == 422 and _problem_field(no_reason) == "opinion"
    returned = await _decide(p37, item["id"], Role.COUNTY, "reject", "出生日期与出生证明不符")
    assert returned.json()["state"] == "returned"
    assert returned.json()["returned_reason"] == "出生日期与出生证明不符"
    mine = await p37.client.get("/api/v1/reviews?state=returned", headers=p37.auth(Role.SCHOOL_REGISTRAR))
    assert item["id"] in [i["id"] for i in mine.json()["items"]]
    fixed = _no_id_body(evidence, birth_date="2010-06-01")
    del fixed["evidence_ids"]
    bad = await p37.client.post(
        f"/api/v1/reviews/{item['id']}/resubmit",
        json={"payload": {**fixed, "class_id": "no-such-class"}},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert bad.status_code == 422 and _problem_field(bad) == "class_id"
    again = await p37.client.post(
        f"/api/v1/reviews/{item['id']}/resubmit",
        json={"payload": fixed},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert again.status_code == 200, again.text
    assert (again.json()["state"], again.json()["current_level"]) == ("pending", "school")
    assert again.json()["payload"]["birth_date"] == "2010-06-01"


async def test_no_id__bad_guardian_id_and_foreign_evidence_refused(p37: Province, p41: Province) -> None:
    evidence = await _evidence(p37)
    body = _no_id_body(evidence)
    body["guardian"]["id_number"] = body["guardian"]["id_number"][:17] + "0"
    if body["guardian"]["id_number"] == _no_id_body(evidence)["guardian"]["id_number"]:
        body["guardian"]["id_number"] = body["guardian"]["id_number"][:17] + "1"
    response = await p37.client.post(
        "/api/v1/students/without-id", json=body, headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert response.status_code == 422 and _problem_field(response) == "guardian.id_number"
    other = await _evidence(p41)
    response = await p37.client.post(
        "/api/v1/students/without-id", json=_no_id_body(other), headers=p37.auth(Role.SCHOOL_REGISTRAR)
    )
    assert response.status_code == 422 and _problem_field(response) == "evidence_ids"
    not_pdf = await p37.client.post(
        "/api/v1/evidence",
        files={"file": ("x.exe", b"MZ\x90\x00", "application/pdf")},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert not_pdf.status_code == 415


# --- approval chains, batch review, overdue ----------------------------------------------------------


async def test_chains__configured_chain_used_and_batch_review_reports_skips(p37: Province) -> None:
    rule = {"business_type": "status_change:go_abroad", "region": "3701", "levels": ["school"]}
    put = await p37.client.put("/api/v1/approval-chains", json=rule, headers=p37.auth(Role.PROVINCE))
    assert put.status_code == 200, put.text
    assert (
        await p37.client.put("/api/v1/approval-chains", json=rule, headers=p37.auth(Role.COUNTY))
    ).status_code == 403
    resolved = await p37.client.get(
        f"/api/v1/approval-chains/resolve?business_type=status_change:go_abroad&school_code={SCHOOL['37']}",
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert resolved.json()["levels"] == ["school"]

    first, second = await p37.register(), await p37.register()
    evidence = await _evidence(p37)
    items = []
    for student, change in ((first, "go_abroad"), (second, "suspend")):
        response = await p37.client.post(
            f"/api/v1/students/{student['id']}/status-changes",
            json={"type": change, "reason": "家长申请", "evidence_ids": [evidence]},
            headers=p37.auth(Role.SCHOOL_REGISTRAR),
        )
        assert response.status_code == 201, response.text
        items.append(response.json())
    assert items[0]["chain"] == ["school"] and items[1]["chain"] == ["school", "county"]
    # The second student dies meanwhile (recorded by a direct update): its suspension no longer applies.
    async with p37.ctx.sessionmaker() as session:
        await session.execute(update(Student).where(Student.id == second["id"]).values(status="dead"))
        await session.commit()
    batch = await p37.client.post(
        "/api/v1/reviews/decisions",
        json={"decision": "approve", "opinion": "同意", "item_ids": [i["id"] for i in items]},
        headers=p37.auth(Role.SCHOOL_LEADER),
    )
    assert batch.status_code == 200, batch.text
    result = batch.json()
    assert result["summary"].startswith("1 条通过，1 条跳过（")
    assert [line["outcome"] for line in result["items"]] == ["approved", "skipped"]
    skipped = (
        await p37.client.get(f"/api/v1/reviews/{items[1]['id']}", headers=p37.auth(Role.SCHOOL_LEADER))
    ).json()
    assert (skipped["state"], skipped["current_level"], len(skipped["decisions"])) == ("pending", "school", 1)
    abroad = await p37.client.get(f"/api/v1/students/{first['id']}", headers=p37.auth(Role.SCHOOL_REGISTRAR))
    assert abroad.json()["status"] == "abroad"
    [event] = await p37.outbox_about("enrollment.student.status_changed", first["id"])
    assert envelope_of(event).data["student"]["status"] == "abroad"
    assert envelope_of(event).data["from_status"] == "in_school"
    third = await p37.register()
    pending = await p37.client.post(
        f"/api/v1/students/{third['id']}/status-changes",
        json={"type": "go_abroad", "reason": "出国留学", "evidence_ids": [evidence]},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    everything = await p37.client.post(
        "/api/v1/reviews/decisions",
        json={"decision": "approve", "all_pending": True, "business_type": "status_change:go_abroad"},
        headers=p37.auth(Role.SCHOOL_LEADER),
    )
    assert everything.status_code == 200, everything.text
    lines = {line["id"]: line["outcome"] for line in everything.json()["items"]}
    assert lines[pending.json()["id"]] == "approved"
    assert everything.json()["summary"].startswith(f"{everything.json()['done']} 条通过")
    both = await p37.client.post(
        "/api/v1/reviews/decisions",
        json={"decision": "approve", "all_pending": True, "item_ids": []},
        headers=p37.auth(Role.SCHOOL_LEADER),
    )
    assert both.status_code == 422


async def test_overdue__flagged_to_the_level_above_once(p37: Province) -> None:
    student = await p37.register()
    evidence = await _evidence(p37)
    item = (
        await p37.client.post(
            f"/api/v1/students/{student['id']}/status-changes",
            json={"type": "withdraw", "reason": "本人申请退学", "evidence_ids": [evidence]},
            headers=p37.auth(Role.SCHOOL_REGISTRAR),
        )
    ).json()
    due = date.fromisoformat(item["due_on"])
    with pinned_today(p37, due):
        on_time = await p37.client.get("/api/v1/reviews/overdue", headers=p37.auth(Role.COUNTY))
        assert item["id"] not in [i["id"] for i in on_time.json()["items"]]
    with pinned_today(p37, due + timedelta(days=1)):
        late = await p37.client.get("/api/v1/reviews/overdue", headers=p37.auth(Role.COUNTY))
        assert item["id"] in [i["id"] for i in late.json()["items"]]
        assert next(i for i in late.json()["items"] if i["id"] == item["id"])["overdue"] is True
        await p37.client.get("/api/v1/reviews/overdue", headers=p37.auth(Role.COUNTY))
        city = await p37.client.get("/api/v1/reviews/overdue", headers=p37.auth(Role.CITY))
        assert item["id"] not in [
            i["id"] for i in city.json()["items"]
        ]  # the school's superior is the county
        swept = await p37.client.post("/api/v1/reviews/overdue/sweep", headers=p37.auth(Role.PROVINCE))
        assert swept.status_code == 200 and swept.json()["overdue"] >= 1
    events = await p37.outbox_about("enrollment.review.overdue", item["id"])
    assert len(events) == 1 and envelope_of(events[0]).data["superior_level"] == "county"
    assert (
        await p37.client.get("/api/v1/reviews/overdue", headers=p37.auth(Role.SCHOOL_LEADER))
    ).status_code == 403


# --- status changes ---------------------------------------------------------------------------------


async def test_status_change__suspend_then_resume_shows_the_suspension(p37: Province) -> None:
    student = await p37.register()
    evidence = await _evidence(p37)
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    url = f"/api/v1/students/{student['id']}/status-changes"
    suspend = (
        await p37.client.post(
            url,
            json={
                "type": "suspend",
                "reason": "两次未参加核验",
                "evidence_ids": [evidence],
                "cause": "checkin_misses",
            },
            headers=registrar,
        )
    ).json()
    twice = await p37.client.post(
        url, json={"type": "withdraw", "reason": "x", "evidence_ids": [evidence]}, headers=registrar
    )
    assert twice.status_code == 409  # one open change per record
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, suspend["id"], role)).status_code == 200
    record = (await p37.client.get(f"/api/v1/students/{student['id']}", headers=registrar)).json()
    assert record["status"] == "suspended"
    assert record["history"][-1]["action"] == "status_change:suspend"
    history = await p37.client.get(
        f"/api/v1/reviews?student_id={student['id']}&state=approved&queue=false",
        headers=p37.auth(Role.COUNTY),
    )
    assert [i["business_type"] for i in history.json()["items"]] == ["status_change:suspend"]
    resume = await p37.client.post(
        url, json={"type": "resume", "reason": "病愈复学", "evidence_ids": [evidence]}, headers=registrar
    )
    assert resume.status_code == 201, resume.text
    suspension = resume.json()["payload"]["suspension"]
    assert suspension["grade"] == 2024 and suspension["class_id"] == CLASS_2024 and suspension["suspended_on"]
    # The suspension was the consequence of missed check-ins: undoing it goes to the province.
    assert resume.json()["chain"][-1] == "province"


async def test_status_change__refusals_name_the_field(p37: Province) -> None:
    student = await p37.register()  # grade 2024, 3 years: 2026/27 is the graduating year
    evidence = await _evidence(p37)
    url = f"/api/v1/students/{student['id']}/status-changes"
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    major = await p37.client.post(
        url,
        json={"type": "change_major", "reason": "x", "evidence_ids": [evidence], "new_major_code": "710201"},
        headers=registrar,
    )
    assert major.status_code == 422 and major.json()["errors"][0]["reason_zh"] == "毕业年级学生不能转专业"
    resume = await p37.client.post(
        url, json={"type": "resume", "reason": "x", "evidence_ids": [evidence]}, headers=registrar
    )
    assert resume.status_code == 422 and _problem_field(resume) == "type"
    unknown = await p37.client.post(
        url, json={"type": "fly", "reason": "x", "evidence_ids": [evidence]}, headers=registrar
    )
    assert unknown.status_code == 422
    no_evidence = await p37.client.post(
        url, json={"type": "suspend", "reason": "x", "evidence_ids": []}, headers=registrar
    )
    assert no_evidence.status_code == 422
    elsewhere = await p37.client.post(
        url,
        json={"type": "suspend", "reason": "x", "evidence_ids": [evidence]},
        headers=p37.auth(Role.SCHOOL_REGISTRAR, "3737010099"),
    )
    assert elsewhere.status_code == 404


async def test_status_change__back_to_full_time_goes_to_the_province(p37: Province) -> None:
    student = await p37.register(study_form="part_time")
    evidence = await _evidence(p37)
    response = await p37.client.post(
        f"/api/v1/students/{student['id']}/status-changes",
        json={
            "type": "change_study_form",
            "reason": "恢复全日制",
            "evidence_ids": [evidence],
            "new_study_form": "full_time",
        },
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    assert response.status_code == 201, response.text
    assert response.json()["chain"][-1] == "province"


# --- key-data changes ---------------------------------------------------------------------------------


async def test_key_data__name_and_id_at_once_refused_new_id_approved_with_new_number(p37: Province) -> None:
    student = await p37.register()
    evidence = await _evidence(p37)
    url = f"/api/v1/students/{student['id']}/key-data-changes"
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    new_id = p37.new_id_number()
    third = await p37.register()
    pending = await p37.client.post(
        f"/api/v1/students/{third['id']}/status-changes",
        json={"type": "go_abroad", "reason": "出国留学", "evidence_ids": [evidence]},
        headers=p37.auth(Role.SCHOOL_REGISTRAR),
    )
    everything = await p37.client.post(
        "/api/v1/reviews/decisions",
        json={"decision": "approve", "all_pending": True, "business_type": "status_change:go_abroad"},
        headers=p37.auth(Role.SCHOOL_LEADER),
    )
    assert everything.status_code == 200, everything.text
    lines = {line["id"]: line["outcome"] for line in everything.json()["items"]}
    assert lines[pending.json()["id"]] == "approved"
    assert everything.json()["summary"].startswith(f"{everything.json()['done']} 条通过")
    both = await p37.client.post(
        url,
        json={"name": "王晓明", "id_number": new_id, "reason": "x", "evidence_ids": [evidence]},
        headers=registrar,
    )
    assert both.status_code == 422 and _problem_field(both) == "name"
    to_none = await p37.client.post(
        url, json={"id_type": "none", "reason": "x", "evidence_ids": [evidence]}, headers=registrar
    )
    assert to_none.status_code == 422 and _problem_field(to_none) == "id_type"
    taken = await p37.register()
    async with p37.ctx.sessionmaker() as session:
        taken_number = await session.scalar(select(Student.id_number).where(Student.id == taken["id"]))
    duplicate = await p37.client.post(
        url, json={"id_number": taken_number, "reason": "x", "evidence_ids": [evidence]}, headers=registrar
    )
    assert duplicate.status_code == 409
    change = await p37.client.post(
        url,
        json={"id_number": new_id, "reason": "身份证号录入错误", "evidence_ids": [evidence]},
        headers=registrar,
    )
    assert change.status_code == 201, change.text
    assert new_id not in change.text
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, change.json()["id"], role)).status_code == 200
    record = (await p37.client.get(f"/api/v1/students/{student['id']}", headers=registrar)).json()
    assert record["id_number_masked"] == mask_id_number(new_id)
    async with p37.ctx.sessionmaker() as session:
        number = await session.scalar(select(Student.student_number).where(Student.id == student["id"]))
    assert number == "G" + new_id
    [event] = await p37.outbox_about("enrollment.student.key_data_changed", student["id"])
    fields = envelope_of(event).data["fields"]
    assert "id_number" in fields and "name" not in fields


async def test_key_data__name_after_id_within_a_year_goes_to_the_province(p37: Province) -> None:
    student = await p37.register()
    evidence = await _evidence(p37)
    url = f"/api/v1/students/{student['id']}/key-data-changes"
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    first = await p37.client.post(
        url,
        json={"id_number": p37.new_id_number(), "reason": "录入错误", "evidence_ids": [evidence]},
        headers=registrar,
    )
    assert first.json()["chain"] == ["school", "county"]
    for role in (Role.SCHOOL_LEADER, Role.COUNTY):
        assert (await _decide(p37, first.json()["id"], role)).status_code == 200
    second = await p37.client.post(
        url, json={"name": "李晓䶮", "reason": "改名", "evidence_ids": [evidence]}, headers=registrar
    )
    assert second.status_code == 201, second.text
    assert second.json()["chain"] == ["school", "county", "province"]


# --- filing -------------------------------------------------------------------------------------------


async def test_filing__qualified_filed_unqualified_refused_closed_after_deadline(p37: Province) -> None:
    first, second = await p37.register(), await p37.register()
    async with p37.ctx.sessionmaker() as session:
        # Not reachable through the API (classes need a qualification): a record from before the
        # rules, whose major the school was never qualified for.
        await session.execute(update(Student).where(Student.id == second["id"]).values(major_code="799999"))
        await session.commit()
    registrar = p37.auth(Role.SCHOOL_REGISTRAR)
    with pinned_today(p37, date(2024, 12, 1)):
        filed = await p37.client.post(
            "/api/v1/filings", json={"intake_year": 2024, "season": "autumn"}, headers=registrar
        )
        assert filed.status_code == 201, filed.text
        result = filed.json()
        assert result["filed_count"] >= 1
        refused = {r["student_id"]: r["reason"] for r in result["refused"]}
        assert first["id"] not in refused and "招生资质" in refused[second["id"]]
        [event] = (await p37.outbox_about("enrollment.intake.filed", SCHOOL["37"]))[-1:]
        assert first["id"] in envelope_of(event).data["filed_student_ids"]
    with pinned_today(p37, date(2024, 12, 21)):
        closed = await p37.client.post(
            "/api/v1/filings", json={"intake_year": 2024, "season": "autumn"}, headers=registrar
        )
        assert closed.status_code == 409 and closed.json()["title_zh"].endswith("截止")
    bad = await p37.client.post(
        "/api/v1/filings", json={"intake_year": "2024", "season": "winter"}, headers=registrar
    )
    assert bad.status_code == 422
    deadlines = await p37.client.get(
        "/api/v1/filings/deadlines?intake_year=2026&season=spring", headers=registrar
    )
    assert deadlines.json()["register_by"] == "2026-04-20" and deadlines.json()["file_by"] == "2026-05-20"


pytestmark = pytest.mark.integration
