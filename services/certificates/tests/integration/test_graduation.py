"""Graduation on the real servers: the pre-graduate list fed by enrollment's events, a list's
review along the chain, returns, jurisdiction, and rollbacks inside and outside the bureau's
half-year window."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from services.certificates.models import AuditEntry, Certificate, GraduationEntry, GraduationList
from services.certificates.tests.integration.approved_lists import issued_certificate
from services.certificates.tests.integration.conftest import Area, RunningCertificates, student_summary
from shared.auth import Role
from shared.china_time import today_in_china
from shared.events.certificates import GraduationRolledBack
from shared.events.common import Lineage, StudentSummary
from shared.events.enrollment import IntakeFiled, ProblemRecordUpdated, QualificationFiled, StudentRegistered

pytestmark = pytest.mark.integration

YEAR = 2026  # grade 2023, three years: due in June 2026
MAJOR = "710201"


async def _ready(certificates: RunningCertificates, area: Area, **overrides: Any) -> StudentSummary:
    """A filed, qualified, in-school student of the 2023 intake, seeded as the events leave them."""
    values: dict[str, Any] = {"lineage": area.lineage(), "grade": 2023, "major_code": MAJOR}
    values.update(overrides)
    student = await certificates.seed_student(**values)
    await certificates.seed_filed(student.student_id, 2023)
    await certificates.seed_qualification(area.school, MAJOR, 2023)
    return student


def _registrar(certificates: RunningCertificates, area: Area) -> dict[str, str]:
    return certificates.auth(Role.SCHOOL_REGISTRAR, area.school)


async def _submit(
    certificates: RunningCertificates, area: Area, entries: list[tuple[str, str]], year: int = YEAR
) -> Any:
    return await certificates.client.post(
        "/api/v1/graduation-lists",
        json={
            "graduating_year": year,
            "entries": [{"student_id": s, "outcome": o} for s, o in entries],
        },
        headers=_registrar(certificates, area),
    )


async def _decide(
    certificates: RunningCertificates, list_id: str, headers: dict[str, str], decision: str, opinion: str = ""
) -> Any:
    return await certificates.client.post(
        f"/api/v1/graduation-lists/{list_id}/decision",
        json={"decision": decision, "opinion": opinion},
        headers=headers,
    )


# --- the pre-graduate list, fed by published events ----------------------------------------------


async def test_pre_graduates__each_blocking_reason_from_enrollments_events(
    certificates: RunningCertificates, area: Area
) -> None:
    def student(**overrides: Any) -> StudentSummary:
        values: dict[str, Any] = {"lineage": area.lineage(), "grade": 2023, "major_code": MAJOR}
        return student_summary(**{**values, **overrides})

    ready = student()
    not_filed = student()
    no_qualification = student(major_code="999999")
    with_problem = student()
    problem_resolved = student()
    suspended = student(status="suspended")
    repeater = student(grade=2024)  # repeated a year: filed with the 2023 intake
    withdrawn = student(status="withdrawn")
    filed = [ready, no_qualification, with_problem, problem_resolved, suspended, repeater, withdrawn]
    lineage = Lineage.model_validate(area.lineage())

    def problem(student_id: str, record_id: str, state: str) -> ProblemRecordUpdated:
        return ProblemRecordUpdated(
            problem_record_id=record_id,
            kind="duplicate_id",
            student_id=student_id,
            lineage=lineage,
            state=state,
        )

    resolved_id = str(uuid.uuid4())
    events = [StudentRegistered(student=s) for s in [*filed, not_filed]] + [
        IntakeFiled(
            filing_id=str(uuid.uuid4()),
            lineage=lineage,
            intake_year=2023,
            season="autumn",
            filed_student_ids=[s.student_id for s in filed],
        ),
        QualificationFiled(school_code=area.school, major_code=MAJOR, year=2023),
        problem(with_problem.student_id, str(uuid.uuid4()), "open"),
        problem(problem_resolved.student_id, resolved_id, "awaiting_second"),
        problem(problem_resolved.student_id, resolved_id, "resolved"),
    ]
    for event in events:
        await certificates.applied(await certificates.publish(event))

    response = await certificates.client.get(
        "/api/v1/pre-graduates",
        params={"school_code": area.school, "year": YEAR},
        headers=_registrar(certificates, area),
    )

    assert response.status_code == 200, response.text
    page = response.json()
    blocks = {item["student_id"]: [b["code"] for b in item["blocks"]] for item in page["items"]}
    assert blocks == {
        ready.student_id: [],
        problem_resolved.student_id: [],
        not_filed.student_id: ["not_filed"],
        no_qualification.student_id: ["no_qualification"],
        with_problem.student_id: ["open_problem_record"],
        suspended.student_id: ["suspended"],
        repeater.student_id: ["study_not_completed"],
        withdrawn.student_id: ["not_in_school"],
    }
    assert page["total"] == 8 and page["ready"] == 2
    item = next(i for i in page["items"] if i["student_id"] == ready.student_id)
    assert item["ready"] and item["student_number"] != ready.student_number  # masked
    assert item["id_number_masked"] == ready.id_number_masked
    suspended_item = next(i for i in page["items"] if i["student_id"] == suspended.student_id)
    assert suspended_item["blocks"][0]["reason_zh"] == "学生处于休学状态"


async def test_pre_graduates__paged(certificates: RunningCertificates, area: Area) -> None:
    for _ in range(3):
        await _ready(certificates, area)
    response = await certificates.client.get(
        "/api/v1/pre-graduates",
        params={"school_code": area.school, "year": YEAR, "limit": 2, "offset": 2},
        headers=_registrar(certificates, area),
    )
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 3 and len(response.json()["items"]) == 1


async def test_pre_graduates__outside_the_jurisdiction_is_empty(
    certificates: RunningCertificates, area: Area
) -> None:
    await _ready(certificates, area)
    params: dict[str, str | int] = {"school_code": area.school, "year": YEAR}
    for role, org in [
        (Role.SCHOOL_REGISTRAR, area.other_school),
        (Role.COUNTY, "419999" if area.county != "419999" else "419998"),
    ]:
        response = await certificates.client.get(
            "/api/v1/pre-graduates", params=params, headers=certificates.auth(role, org)
        )
        assert response.status_code == 200, response.text
        assert response.json()["total"] == 0
    county = await certificates.client.get(
        "/api/v1/pre-graduates", params=params, headers=certificates.auth(Role.COUNTY, area.county)
    )
    assert county.json()["total"] == 1
    counselor = await certificates.client.get(
        "/api/v1/pre-graduates", params=params, headers=certificates.auth(Role.COUNSELOR, area.school)
    )
    assert counselor.status_code == 403


async def test_pre_graduates__bad_query_is_a_problem(certificates: RunningCertificates, area: Area) -> None:
    response = await certificates.client.get(
        "/api/v1/pre-graduates",
        params={"school_code": "x", "year": "soon"},
        headers=_registrar(certificates, area),
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"query.school_code", "query.year"}


# --- a list along the chain ----------------------------------------------------------------------


async def test_graduation_list__school_leader_then_county_approve(
    certificates: RunningCertificates, area: Area
) -> None:
    first, second = await _ready(certificates, area), await _ready(certificates, area)
    leader = certificates.auth(Role.SCHOOL_LEADER, area.school)
    county = certificates.auth(Role.COUNTY, area.county)

    submitted = await _submit(
        certificates, area, [(first.student_id, "graduated"), (second.student_id, "completed")]
    )

    assert submitted.status_code == 201, submitted.text
    listed = submitted.json()
    assert listed["state"] == "under_review" and listed["pending_level"] == "school"
    assert listed["levels"] == ["school", "county"]
    assert {s["student_id"]: s["outcome"] for s in listed["students"]} == {
        first.student_id: "graduated",
        second.student_id: "completed",
    }
    list_id = listed["id"]

    async def queue(headers: dict[str, str], **params: str) -> list[str]:
        response = await certificates.client.get("/api/v1/graduation-reviews", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert list_id in await queue(leader)
    # The tree's node narrows the queue: this school or its county holds the list, another school not.
    assert list_id in await queue(leader, region=area.school)
    assert list_id not in await queue(leader, region=area.other_school)
    assert list_id not in await queue(county)
    early = await _decide(certificates, list_id, county, "approve")
    assert early.status_code == 403 and early.json()["detail_zh"]

    assert (await _decide(certificates, list_id, leader, "approve", "同意")).json()[
        "pending_level"
    ] == "county"
    assert list_id not in await queue(leader)
    assert list_id in await queue(county)
    assert list_id in await queue(county, region=area.county)
    assert list_id in await queue(county, region=area.city)
    assert list_id not in await queue(county, region=area.other_school)
    other_county = certificates.auth(Role.COUNTY, "419999" if area.county != "419999" else "419998")
    assert (await _decide(certificates, list_id, other_county, "approve")).status_code == 404

    approved = await _decide(certificates, list_id, county, "approve", "审核通过")

    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["state"] == "approved" and body["pending_level"] is None
    assert [(r["level"], r["decision"]) for r in body["reviews"]] == [
        ("school", "approve"),
        ("county", "approve"),
    ]
    again = await _decide(certificates, list_id, county, "approve")
    assert again.status_code == 409
    lists = await certificates.client.get(
        "/api/v1/graduation-lists",
        params={"school_code": area.school, "state": "approved"},
        headers=certificates.auth(Role.CITY, area.city),
    )
    assert [item["id"] for item in lists.json()["items"]] == [list_id]
    assert lists.json()["items"][0]["entries"] == 2
    other_school = certificates.auth(Role.SCHOOL_REGISTRAR, area.other_school)
    hidden = await certificates.client.get(f"/api/v1/graduation-lists/{list_id}", headers=other_school)
    assert hidden.status_code == 404
    theirs = await certificates.client.get("/api/v1/graduation-lists", headers=other_school)
    assert theirs.json()["total"] == 0


async def test_graduation_list__return_ends_it_and_the_school_submits_again(
    certificates: RunningCertificates, area: Area
) -> None:
    student = await _ready(certificates, area)
    leader = certificates.auth(Role.SCHOOL_LEADER, area.school)
    list_id = (await _submit(certificates, area, [(student.student_id, "graduated")])).json()["id"]

    no_opinion = await _decide(certificates, list_id, leader, "return")
    assert no_opinion.status_code == 422 and no_opinion.json()["errors"][0]["field"] == "opinion"
    returned = await _decide(certificates, list_id, leader, "return", "结业与毕业填反了")

    assert returned.status_code == 200, returned.text
    assert returned.json()["state"] == "returned"
    assert [s["state"] for s in returned.json()["students"]] == ["dropped"]
    assert returned.json()["reviews"][0]["opinion"] == "结业与毕业填反了"
    resubmitted = await _submit(certificates, area, [(student.student_id, "completed")])
    assert resubmitted.status_code == 201, resubmitted.text


async def test_graduation_list__refusals_name_the_student_and_reason(
    certificates: RunningCertificates, area: Area
) -> None:
    ready = await _ready(certificates, area)
    suspended = await _ready(certificates, area, status="suspended")
    unfiled = await certificates.seed_student(lineage=area.lineage(), grade=2023, major_code=MAJOR)
    elsewhere = await _ready(certificates, area, lineage=area.lineage(area.other_school))

    refused = await _submit(
        certificates,
        area,
        [
            (ready.student_id, "graduated"),
            (suspended.student_id, "graduated"),
            (unfiled.student_id, "left_without_completing"),
            (elsewhere.student_id, "graduated"),
        ],
    )

    assert refused.status_code == 422, refused.text
    errors = {e["field"]: e for e in refused.json()["errors"]}
    assert set(errors) == {"entries[1].student_id", "entries[2].student_id", "entries[3].student_id"}
    assert suspended.student_id in errors["entries[1].student_id"]["reason"]
    assert "休学" in errors["entries[1].student_id"]["reason_zh"]
    assert "未在省级备案" in errors["entries[2].student_id"]["reason_zh"]
    assert errors["entries[3].student_id"]["reason_zh"] == "不是本校学生"

    # 肄业 for the suspended student, then the same students again: already on a live list.
    ok = await _submit(
        certificates,
        area,
        [(ready.student_id, "graduated"), (suspended.student_id, "left_without_completing")],
    )
    assert ok.status_code == 201, ok.text
    twice = await _submit(certificates, area, [(ready.student_id, "graduated")])
    assert twice.status_code == 409 and ok.json()["id"] in twice.json()["detail"]

    duplicate = await _submit(certificates, area, [(ready.student_id, "graduated")] * 2)
    assert duplicate.status_code == 422
    too_early = await _submit(certificates, area, [(ready.student_id, "graduated")], year=2031)
    assert too_early.status_code == 422 and too_early.json()["errors"][0]["field"] == "graduating_year"
    bad_outcome = await _submit(certificates, area, [(ready.student_id, "expelled")])
    assert bad_outcome.status_code == 422
    by_leader = await certificates.client.post(
        "/api/v1/graduation-lists",
        json={"graduating_year": YEAR, "entries": [{"student_id": ready.student_id, "outcome": "graduated"}]},
        headers=certificates.auth(Role.SCHOOL_LEADER, area.school),
    )
    assert by_leader.status_code == 403


async def test_graduation_list__late_graduation_goes_to_the_province(
    certificates: RunningCertificates, area: Area
) -> None:
    # Due in June 2021, never graduated: more than three years late in 2026.
    past = await certificates.seed_student(lineage=area.lineage(), grade=2018, major_code=MAJOR)
    await certificates.seed_filed(past.student_id, 2018)
    await certificates.seed_qualification(area.school, MAJOR, 2018)

    listed = await _submit(certificates, area, [(past.student_id, "graduated")])

    assert listed.status_code == 201, listed.text
    assert listed.json()["levels"] == ["school", "county", "province"]


async def test_graduation_chain__configured_by_the_province(
    certificates: RunningCertificates, area: Area
) -> None:
    province = certificates.auth(Role.PROVINCE, "41")
    by_county = await certificates.client.put(
        "/api/v1/graduation-chain",
        json={"levels": ["county"]},
        headers=certificates.auth(Role.COUNTY, area.county),
    )
    assert by_county.status_code == 403
    invalid = await certificates.client.put(
        "/api/v1/graduation-chain", json={"levels": ["county", "school"]}, headers=province
    )
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["reason_zh"]
    student = await _ready(certificates, area)
    try:
        put = await certificates.client.put(
            "/api/v1/graduation-chain", json={"levels": ["school", "city"]}, headers=province
        )
        assert put.status_code == 200, put.text
        got = await certificates.client.get(
            "/api/v1/graduation-chain", headers=_registrar(certificates, area)
        )
        assert got.json()["levels"] == ["school", "city"] and got.json()["configured"]
        listed = await _submit(certificates, area, [(student.student_id, "graduated")])
        assert listed.json()["levels"] == ["school", "city"]
    finally:
        await certificates.client.put(
            "/api/v1/graduation-chain", json={"levels": ["school", "county"]}, headers=province
        )


# --- rollback ------------------------------------------------------------------------------------


async def _issued(
    certificates: RunningCertificates, area: Area, graduated_on: date
) -> tuple[StudentSummary, str]:
    """A student whose graduation was issued on ``graduated_on`` (inserted as issuing would leave
    it): returns the student and the certificate id."""
    student = await _ready(certificates, area)
    async with certificates.ctx.sessionmaker() as session:
        listed = GraduationList(
            province="41",
            city=area.city,
            county=area.county,
            school_code=area.school,
            school_name=student.school_name,
            graduating_year=graduated_on.year,
            state="issued",
            levels=["school", "county"],
            level_index=1,
            submitted_by="41-school_registrar",
            issued_by="41-province",
        )
        session.add(listed)
        await session.flush()
        entry = GraduationEntry(
            list_id=listed.id,
            student_id=student.student_id,
            outcome="graduated",
            state="issued",
            graduated_on=graduated_on,
        )
        session.add(entry)
        await session.commit()
    certificate = await issued_certificate(certificates, student, issued_on=graduated_on, entry_id=entry.id)
    async with certificates.ctx.sessionmaker() as session:
        await session.execute(
            update(GraduationEntry)
            .where(GraduationEntry.id == entry.id)
            .values(certificate_id=certificate.id)
        )
        await session.commit()
    return student, certificate.id


async def _roll_back(
    certificates: RunningCertificates, student_id: str, headers: dict[str, str], reason: str = "信息录入错误"
) -> Any:
    return await certificates.client.post(
        f"/api/v1/graduations/{student_id}/rollback", json={"reason": reason}, headers=headers
    )


async def test_rollback__county_within_half_a_year(certificates: RunningCertificates, area: Area) -> None:
    today = today_in_china()
    student, certificate_id = await _issued(certificates, area, today - timedelta(days=30))

    response = await _roll_back(certificates, student.student_id, certificates.auth(Role.COUNTY, area.county))

    assert response.status_code == 200, response.text
    assert response.json()["certificate_status"] == "voided"
    async with certificates.ctx.sessionmaker() as session:
        certificate = await session.get(Certificate, certificate_id)
        assert certificate is not None
        assert certificate.status == "voided" and certificate.void_reason == "信息录入错误"
        assert certificate.voided_at is not None and certificate.voided_by
        entry = await session.scalar(
            select(GraduationEntry).where(GraduationEntry.student_id == student.student_id)
        )
        assert entry is not None and entry.state == "rolled_back" and entry.rollback_reason == "信息录入错误"
        audit = await session.scalar(select(AuditEntry).where(AuditEntry.subject == certificate.number))
        assert audit is not None and audit.action == "graduation.rolled_back"
    events = [
        GraduationRolledBack.model_validate(e.data)
        for e in await certificates.outbox(GraduationRolledBack.event_type)
        if e.subject == student.student_id
    ]
    assert len(events) == 1
    assert events[0].rolled_back_by_level == "county" and events[0].certificate_number == certificate.number
    assert events[0].lineage.school == area.school

    again = await _roll_back(certificates, student.student_id, certificates.auth(Role.PROVINCE, "41"))
    assert again.status_code == 409


async def test_rollback__after_half_a_year_only_the_province(
    certificates: RunningCertificates, area: Area
) -> None:
    today = today_in_china()
    student, _ = await _issued(certificates, area, today - timedelta(days=200))

    for role, org in [(Role.COUNTY, area.county), (Role.CITY, area.city)]:
        refused = await _roll_back(certificates, student.student_id, certificates.auth(role, org))
        assert refused.status_code == 403, refused.text
        assert "省教育厅" in refused.json()["detail_zh"]
    by_province = await _roll_back(certificates, student.student_id, certificates.auth(Role.PROVINCE, "41"))

    assert by_province.status_code == 200, by_province.text
    events = [
        e
        for e in await certificates.outbox(GraduationRolledBack.event_type)
        if e.subject == student.student_id
    ]
    assert [e.data["rolled_back_by_level"] for e in events] == ["province"]


async def test_rollback__who_and_what(certificates: RunningCertificates, area: Area) -> None:
    today = today_in_china()
    student, _ = await _issued(certificates, area, today - timedelta(days=10))
    never_graduated = await _ready(certificates, area)
    county = certificates.auth(Role.COUNTY, area.county)

    other_county = certificates.auth(Role.COUNTY, "419999" if area.county != "419999" else "419998")
    assert (await _roll_back(certificates, student.student_id, other_county)).status_code == 404
    assert (await _roll_back(certificates, "no-such-student", county)).status_code == 404
    by_school = await _roll_back(
        certificates, student.student_id, certificates.auth(Role.SCHOOL_REGISTRAR, area.school)
    )
    assert by_school.status_code == 403
    blank = await _roll_back(certificates, student.student_id, county, reason="   ")
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "body.reason"
    assert (await _roll_back(certificates, never_graduated.student_id, county)).status_code == 409
