"""The transfer part of the demo, every kind people meet, over HTTP with each person's account:

1–3. across provinces (41 ← 37): the destination school applies; its school and bureau approve,
   then the origin's school and bureau; the record moves by itself (自动调档);
6. inside 41, between two cities: the origin school uploads the student's handwritten request
   and applies; both schools, both county bureaus, both city bureaus and the province approve;
   the same record now belongs to the new school;
7. two cross-province applications the destination registrar cancels (撤销): one while 41 holds
   the case (cancelled at once), one after 41's bureau approved, when 37 holds it (the request
   goes to 37, which cancels; both copies end CANCELLED);
8. each case's timeline as a table, the same lines in every province of the case.

Each reviewer acts once the case waits in their own queue (待核办) at their level, as a person
would; the level comes from the case's ``pending_level`` in the province that decides it.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from services.enrollment.domain.registration import FORMAL_NUMBER_PREFIX, formal_student_number
from services.transfer.domain.review_levels import LEVEL_LABELS, ReviewLevel
from services.transfer.domain.transfer_process import TERMINAL_STATES, CaseState, Progress, label
from shared.idnumber import make_resident_id, mask_student_number

if TYPE_CHECKING:
    from deploy.local.scenario import Scenario

ORIGIN, DESTINATION = "37", "41"
# The second city of 41 (deploy/seed/41.json): 开封市, 龙亭区.
OTHER_CITY_SCHOOL = "4141020001"
# Who reviews at a level of an organisation: a school's leader in charge of records (学籍主管领导)
# rather than its registrar, who applies; a bureau's account.
_REVIEWER_ROLE = {"school": "school_leader", "county": "county", "city": "city", "province": "province"}
_ACTION_WORDS = {
    "apply": "申请",
    "approve": "同意",
    "reject": "驳回",
    "cancel": "撤销",
    "cancel_requested": "申请撤销",
    "cancel_refused": "撤销未获同意",
    "records_moved": "调档完毕",
    "expire": "超期",
}


@dataclass(frozen=True)
class Student:
    id: str
    number: str  # in full: the registrar applying copies it from the student's papers
    name: str
    province: str
    school: str


def number_on_papers(shown: str, id_number: str) -> str:
    """The student number a registrar copies from the student's papers: the API shows a formal
    number masked (it is the ID number behind a prefix), a temporary one in full."""
    return formal_student_number(id_number) if shown.startswith(FORMAL_NUMBER_PREFIX) else shown


def handwritten_request_pdf() -> bytes:
    """A one-page PDF standing in for the scan of the student's handwritten request. Built by
    hand (no PDF library in the environment), with the cross-reference offsets counted."""
    stream = b"BT /F1 14 Tf 72 720 Td (Transfer request, handwritten by the student) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(pdf)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int) -> str:
    if _width(text) > width:
        while _width(text) > width - 1:
            text = text[:-1]
        text += "…"
    return text + " " * (width - _width(text))


def state_label(state: str, pending_level: str | None) -> str:
    return label(Progress(CaseState(state), ReviewLevel(pending_level) if pending_level else None))


def timeline_table(timeline: list[dict[str, Any]]) -> list[str]:
    """The case's timeline as the registrar's screen would list it."""
    columns = [
        ("#", 3),
        ("时间", 8),
        ("省", 2),
        ("单位", 10),
        ("角色", 16),
        ("操作", 25),
        ("审核环节", 18),
        ("意见", 26),
        ("之后状态", 24),
    ]
    rows = [[title for title, _ in columns]]
    for step in timeline:
        at = datetime.fromisoformat(str(step["at"]).replace("Z", "+00:00"))
        rows.append(
            [
                str(step["seq"]),
                at.astimezone().strftime("%H:%M:%S"),
                step["actor_province"],
                step["actor_org"],
                step["actor_role"],
                f"{step['action']} {_ACTION_WORDS.get(step['action'], '')}".strip(),
                step.get("level_label") or "",
                step.get("opinion") or "",
                state_label(step["state_after"], step.get("pending_level_after")),
            ]
        )
    return [
        ("   " + " ".join(_cell(value, w) for value, (_, w) in zip(row, columns, strict=True))).rstrip()
        for row in rows
    ]


class TransferSteps:
    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        self.rng = random.Random()
        self.dest_school = scenario.account(DESTINATION, "school_registrar")["organisation"]
        self.origin_school = scenario.account(ORIGIN, "school_registrar")["organisation"]

    # -- people and papers ------------------------------------------------------------------
    def register(self, province: str, school: str, name: str, intake: int) -> Student:
        """A new student of ``school``, registered by its registrar (single entry)."""
        id_number = make_resident_id(
            self.s.county_of(province, school),
            date(intake - 15, self.rng.randint(1, 12), self.rng.randint(1, 28)),
            self.rng.randint(0, 999),
        )
        registered = self.s.call(
            "POST",
            province,
            "enrollment",
            "/api/v1/students",
            role="school_registrar",
            org=school,
            json={
                "name": name,
                "id_type": "resident_id",
                "id_number": id_number,
                "class_id": f"class-{school}-{intake}-1",
                "study_length": 3,
                "study_form": "full_time",
            },
            expect=201,
        ).json()
        number = number_on_papers(registered["student_number"], id_number)
        return Student(registered["id"], number, name, province, school)

    def upload_request(self, province: str, school: str) -> str:
        response = self.s.client.post(
            f"{self.s.deployment.base_url(province, 'transfer')}/api/v1/transfers/evidence",
            params={"filename": "申请书.pdf"},
            content=handwritten_request_pdf(),
            headers={
                "Authorization": f"Bearer {self.s.token(province, 'school_registrar', school)}",
                "Content-Type": "application/pdf",
            },
        )
        self.s.expect(response, 201)
        return str(response.json()["evidence_id"])

    def apply_across(self, student: Student, reason: str) -> httpx.Response:
        return self.s.call(
            "POST",
            DESTINATION,
            "transfer",
            "/api/v1/transfers",
            role="school_registrar",
            json={
                "kind": "cross_province",
                "student_number": student.number,
                "student_name": student.name,
                "origin_province": student.province,
                "destination_class_id": f"class-{self.dest_school}-2024-1",
                "grade": 2024,
                "reason": reason,
            },
            expect=201,
        )

    # -- reviews ----------------------------------------------------------------------------
    def case_in(self, province: str, transfer_id: str) -> dict[str, Any] | None:
        """The province's copy, as its education department sees it."""
        return self.s.case(province, transfer_id, "province")

    def wait_state(self, transfer_id: str, province: str, state: str) -> dict[str, Any]:
        def reached(case: dict[str, Any]) -> bool:
            if case["state"] in TERMINAL_STATES and case["state"] != state:
                raise self.s.failed(f"transfer {transfer_id} ended {case['state']} in {province}", case)
            return bool(case["state"] == state)

        return self.s.wait_case(province, transfer_id, "province", reached, f"{state}")

    def approve(self, transfer_id: str, level: str, first: bool, opinion: str) -> httpx.Response:
        """The reviewer at ``level`` approves once the case waits in their queue."""
        side, org_level = level.split("_", 1)
        applied = self.case_in(DESTINATION, transfer_id) or {}
        province = applied.get(f"{side}_province") or DESTINATION
        org_column = f"{side}_province" if org_level == "province" else f"{side}_{org_level}"

        def waiting(case: dict[str, Any]) -> bool:
            if case["state"] != "UNDER_REVIEW":
                raise self.s.failed(
                    f"transfer {transfer_id} is {case['state']}, not waiting for {level}", case
                )
            # The first review needs both checks back (the origin vouches for the student).
            checked = case["origin_checked"] is True and case["dest_checked"] is True
            known = case[org_column] is not None
            return case["pending_level"] == level and known and (checked or not first)

        case = self.s.wait_case(province, transfer_id, "province", waiting, f"the {level} review")
        org = str(case[org_column])
        role = _REVIEWER_ROLE[org_level]
        self.s.wait_for(
            f"the case in the queue of {role} {org} in {province}",
            lambda: self.s.in_queue(province, role, transfer_id, org),
        )
        response = self.s.call(
            "POST",
            province,
            "transfer",
            f"/api/v1/transfers/{transfer_id}/approve",
            role=role,
            org=org,
            json={"opinion": opinion},
        )
        after = response.json()
        self.s.log(
            f"   {province} {role:<13} {org:<10} "
            f"{LEVEL_LABELS[ReviewLevel(level)]}同意 → {after['state_label']}"
        )
        return response

    # -- 1–3. across provinces ----------------------------------------------------------------
    def cross_province(self) -> dict[str, Any]:
        self.s.log(f"1. {ORIGIN} registrar registers a student at school {self.origin_school}")
        student = self.register(ORIGIN, self.origin_school, "李䶮", 2024)
        self.s.log(f"   student {student.id}, number {mask_student_number(student.number)}")
        for service in ("checkin", "certificates"):
            self.s.wait_for(
                f"{service}@{ORIGIN} read model of the student",
                partial(
                    self.s.get_json, ORIGIN, service, f"/api/v1/students/{student.id}", "school_registrar"
                ),
            )
        self.s.log(f"   checkin and certificates of {ORIGIN} keep the student")

        self.s.log(
            f"2. {DESTINATION} registrar applies for a cross-province transfer (跨省转学) from {ORIGIN}"
        )
        applied = self.apply_across(student, "随父母工作调动迁居郑州")
        transfer_id = applied.json()["id"]
        self.s.log(f"   case {transfer_id}: chain {' → '.join(applied.json()['chain'])}")
        opinions = {
            "dest_school": "转入学校同意接收",
            "dest_county": "转入地教育局审核通过",
            "origin_school": "转出学校同意转出",
            "origin_county": "转出地教育局审核通过",
        }
        last = applied
        for index, level in enumerate(applied.json()["chain"]):
            last = self.approve(transfer_id, level, index == 0, opinions.get(level, "同意"))
        final_dest = self.wait_state(transfer_id, DESTINATION, "COMPLETED")
        final_origin = self.wait_state(transfer_id, ORIGIN, "COMPLETED")
        self.s.log(f"3. records moved (自动调档): case COMPLETED in {DESTINATION} and {ORIGIN}")
        return {
            "student": student,
            "transfer_id": transfer_id,
            "transfer_trace_id": self.s.trace_id(applied),
            "final_approval_trace_id": self.s.trace_id(last),
            "cases": {DESTINATION: final_dest, ORIGIN: final_origin},
        }

    # -- 6. inside the province, between cities ----------------------------------------------
    def in_province(self) -> dict[str, Any]:
        origin_school = self.dest_school
        self.s.log(
            f"6. in-province transfer (省内转学) in {DESTINATION}: {origin_school} (郑州市) → "
            f"{OTHER_CITY_SCHOOL} (开封市)"
        )
        student = self.register(DESTINATION, origin_school, "赵子涵", 2025)
        evidence_id = self.upload_request(DESTINATION, origin_school)
        self.s.log(f"   student {student.id}; the handwritten request uploaded as evidence {evidence_id}")
        applied = self.s.call(
            "POST",
            DESTINATION,
            "transfer",
            "/api/v1/transfers",
            role="school_registrar",
            org=origin_school,
            json={
                "kind": "in_province",
                "student_number": student.number,
                "student_name": student.name,
                "destination_school": OTHER_CITY_SCHOOL,
                "destination_class_id": f"class-{OTHER_CITY_SCHOOL}-2025-1",
                "grade": 2025,
                "reason": "家庭搬迁至开封市，就近入学",
                "evidence_ids": [evidence_id],
            },
            expect=201,
        ).json()
        transfer_id = applied["id"]
        self.s.log(f"   case {transfer_id}: chain {' → '.join(applied['chain'])} (跨市：逐级上报省教育厅)")
        for index, level in enumerate(applied["chain"]):
            self.approve(transfer_id, level, index == 0, "同意")
        final = self.wait_state(transfer_id, DESTINATION, "COMPLETED")

        def moved() -> dict[str, Any] | None:
            record = self.s.get_json(DESTINATION, "enrollment", f"/api/v1/students/{student.id}", "province")
            return record if record and record["lineage"]["school"] == OTHER_CITY_SCHOOL else None

        record: dict[str, Any] = self.s.wait_for(f"the record at {OTHER_CITY_SCHOOL}", moved)
        history = [line for line in record["history"] if transfer_id in (line.get("detail") or "")]
        if not history:
            raise self.s.failed("the student's history does not mention the transfer", record["history"])
        self.s.log(
            f"   the record is now {record['school_name']}'s ({record['status']}): {history[-1]['detail']}"
        )
        return {
            "student": student,
            "transfer_id": transfer_id,
            "case": final,
            "record": record,
            "history": history,
        }

    # -- 7. cancelled (撤销) ------------------------------------------------------------------
    def cancelled_while_held_here(self) -> dict[str, Any]:
        student = self.register(ORIGIN, self.origin_school, "孙悦", 2024)
        self.s.log(
            f"7. {DESTINATION} applies for {student.name} from {ORIGIN}, then cancels (撤销) while "
            f"{DESTINATION} holds the case"
        )
        transfer_id = self.apply_across(student, "拟随家长迁居郑州").json()["id"]
        self.s.wait_for(f"{ORIGIN}'s copy of the case", lambda: self.case_in(ORIGIN, transfer_id))
        return self._cancel(transfer_id, "家长决定暂不转学", expect=200)

    def cancelled_by_origin(self) -> dict[str, Any]:
        student = self.register(ORIGIN, self.origin_school, "周宁", 2024)
        self.s.log(
            f"   {DESTINATION} applies for {student.name}; after {DESTINATION}'s school and bureau approve, "
            f"{ORIGIN} holds the case and the cancel is requested from it"
        )
        applied = self.apply_across(student, "拟随家长迁居郑州").json()
        transfer_id = applied["id"]
        for index, level in enumerate(applied["chain"]):
            if not level.startswith("dest_"):
                break
            self.approve(transfer_id, level, index == 0, "同意")
        self.s.wait_case(
            ORIGIN,
            transfer_id,
            "province",
            lambda c: c["state"] == "UNDER_REVIEW" and c["pending_level"].startswith("origin_"),
            f"{ORIGIN} holding the case",
        )
        return self._cancel(transfer_id, "学生决定留在原校", expect=202)

    def _cancel(self, transfer_id: str, opinion: str, expect: int) -> dict[str, Any]:
        response = self.s.call(
            "POST",
            DESTINATION,
            "transfer",
            f"/api/v1/transfers/{transfer_id}/cancel",
            role="school_registrar",
            json={"opinion": opinion},
            expect=expect,
        )
        answer = (
            "cancelled here" if response.status_code == 200 else f"requested from {ORIGIN}, which decides"
        )
        self.s.log(f"   cancel → {response.status_code} ({answer}): {response.json()['state_label']}")
        cases = {p: self.wait_state(transfer_id, p, "CANCELLED") for p in (DESTINATION, ORIGIN)}
        self.s.log(f"   case {transfer_id} CANCELLED in {DESTINATION} and {ORIGIN}")
        return {"transfer_id": transfer_id, "cancel_status": response.status_code, "cases": cases}

    # -- 8. timelines ---------------------------------------------------------------------------
    def print_timeline(self, title: str, cases: dict[str, dict[str, Any]]) -> None:
        first, *others = cases
        case = cases[first]
        self.s.log(f"\n   {title}  {case['id']}  {case['kind_label']}  {case['state_label']}")
        for line in timeline_table(case["timeline"]):
            self.s.log(line)
        steps = [s["step_id"] for s in case["timeline"]]
        for other in others:
            same = [s["step_id"] for s in cases[other]["timeline"]] == steps
            self.s.log(f"   {other}'s copy: {'the same' if same else 'DIFFERENT'} {len(steps)} lines")
        for province in cases:
            self.s.log(
                f"   GET {self.s.deployment.base_url(province, 'transfer')}/api/v1/transfers/{case['id']}"
            )


def summary(cases: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the report keeps of a case: per province its state and timeline."""
    first = next(iter(cases.values()))
    return {
        "kind": first["kind"],
        "chain": first["chain"],
        "states": {p: c["state"] for p, c in cases.items()},
        "timeline": {p: c["timeline"] for p, c in cases.items()},
    }
