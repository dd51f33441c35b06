"""The walking skeleton, over HTTP, as people would do it:

1. a school registrar in 37 registers a student; identity, checkin and certificates of 37
   learn of it through events;
2. a school registrar in 41 applies for the student's cross-province transfer; the
   destination school, destination bureau, origin school and origin bureau approve, each with
   their own account in their own province;
3. 37 releases the record, 41 creates it with the same student number; both provinces show
   the same timeline, and the read models on both sides follow;
4. a registrar in 41 imports a class from an Excel workbook with one bad row and reads the
   per-row report;
5. a student of that class activates the phone app and checks in during a verification round
   the province publishes (deploy/local/checkin_step.py).

Run by ``make demo`` (via ``python -m deploy.local.demo``) and by the end-to-end test.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import httpx

from deploy.local.checkin_step import CheckInStep
from deploy.local.class_workbook import demo_workbook
from deploy.local.layout import Deployment
from shared.idnumber import make_resident_id, mask_student_number

WAIT_SECONDS = 60.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ScenarioFailed(RuntimeError):
    """A step of the story did not happen as people would expect; the message says which."""


def trace_id_of(response: httpx.Response) -> str:
    """The trace a request started, from the W3C ``traceresponse`` header every service sends."""
    header = response.headers.get("traceresponse", "")
    parts = header.split("-")
    if len(parts) != 4:
        raise ScenarioFailed(f"no traceresponse header on {response.request.url}")
    return str(parts[1])


@dataclass
class Scenario:
    deployment: Deployment
    accounts: list[dict[str, str]]
    log: Callable[[str], None] = print
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=15.0))
    _tokens: dict[str, str] = field(default_factory=dict)

    # -- helpers ---------------------------------------------------------------------------
    def account(self, province: str, role: str) -> dict[str, str]:
        for account in self.accounts:
            if account["province"] == province and account["role"] == role:
                return account
        raise ScenarioFailed(f"no {role} account in {province}")

    def token(self, province: str, role: str) -> str:
        account = self.account(province, role)
        if account["username"] not in self._tokens:
            response = self.client.post(
                f"{self.deployment.base_url(province, 'identity')}/api/v1/auth/token",
                data={"username": account["username"], "password": account["password"]},
            )
            self._expect(response, 200)
            self._tokens[account["username"]] = response.json()["access_token"]
        return self._tokens[account["username"]]

    def call(
        self,
        method: str,
        province: str,
        service: str,
        path: str,
        *,
        role: str,
        json: Any = None,
        expect: int = 200,
    ) -> httpx.Response:
        response = self.client.request(
            method,
            f"{self.deployment.base_url(province, service)}{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.token(province, role)}"},
        )
        self._expect(response, expect)
        return response

    @staticmethod
    def _expect(response: httpx.Response, status: int) -> None:
        if response.status_code != status:
            raise ScenarioFailed(
                f"{response.request.method} {response.request.url} → {response.status_code}, "
                f"expected {status}: {response.text[:500]}"
            )

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.25)
        raise ScenarioFailed(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last!r}")

    def get_json(self, province: str, service: str, path: str, role: str) -> dict[str, Any] | None:
        response = self.client.get(
            f"{self.deployment.base_url(province, service)}{path}",
            headers={"Authorization": f"Bearer {self.token(province, role)}"},
        )
        return response.json() if response.status_code == 200 else None

    def in_queue(self, province: str, role: str, transfer_id: str) -> bool:
        queue = self.get_json(province, "transfer", "/api/v1/transfers/queue", role) or {}
        return any(item.get("id") == transfer_id for item in queue.get("items", []))

    def view_with_status(
        self, province: str, service: str, student_id: str, status: str
    ) -> dict[str, Any] | None:
        view = self.get_json(province, service, f"/api/v1/students/{student_id}", "school_registrar")
        return view if view is not None and view.get("status") == status else None

    def case(self, province: str, transfer_id: str, role: str) -> dict[str, Any] | None:
        return self.get_json(province, "transfer", f"/api/v1/transfers/{transfer_id}", role)

    def wait_case(
        self, province: str, transfer_id: str, role: str, test: Callable[[dict[str, Any]], bool], what: str
    ) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            case = self.case(province, transfer_id, role)
            return case if case is not None and test(case) else None

        result: dict[str, Any] = self.wait_for(f"{what} (transfer in {province})", probe)
        return result

    # -- the story ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        origin, destination = "37", "41"
        origin_school = self.account(origin, "school_registrar")["organisation"]
        dest_school = self.account(destination, "school_registrar")["organisation"]
        rng = random.Random()
        id_number = make_resident_id(
            "370102", date(2009, rng.randint(1, 12), rng.randint(1, 28)), rng.randint(0, 999)
        )

        self.log(f"1. {origin} registrar registers a student at school {origin_school}")
        registered = self.call(
            "POST",
            origin,
            "enrollment",
            "/api/v1/students",
            role="school_registrar",
            json={
                "name": "李䶮",
                "id_type": "resident_id",
                "id_number": id_number,
                "class_id": f"class-{origin_school}-2024-1",
                "study_length": 3,
                "study_form": "full_time",
            },
            expect=201,
        ).json()
        student_id = registered.get("id") or registered["student_id"]
        # A formal number is "G" + the ID number and is shown masked; the registrar applying in
        # 41 copies it from the student's papers, which the scenario knows.
        shown = registered["student_number"]
        student_number = "G" + id_number if shown.startswith("G") else shown
        self.log(f"   student {student_id}, ID {registered.get('id_number_masked')}")

        for service in ("checkin", "certificates"):
            self.wait_for(
                f"{service}@{origin} read model of the student",
                partial(self.get_json, origin, service, f"/api/v1/students/{student_id}", "school_registrar"),
            )
        self.log(f"   checkin and certificates of {origin} keep the student")

        self.log(f"2. {destination} registrar applies for a cross-province transfer from {origin}")
        applied = self.call(
            "POST",
            destination,
            "transfer",
            "/api/v1/transfers",
            role="school_registrar",
            json={
                "student_number": student_number,
                "student_name": "李䶮",
                "origin_province": origin,
                "destination_class_id": f"class-{dest_school}-2024-1",
                "grade": 2024,
                "reason": "随父母工作调动迁居郑州",
            },
            expect=201,
        )
        transfer_trace_id = trace_id_of(applied)
        transfer_id = applied.json()["id"]
        self.wait_case(
            destination,
            transfer_id,
            "school_registrar",
            lambda c: c.get("origin_checked") is True and c.get("dest_checked") is True,
            "origin and destination checks",
        )
        self.log("   the origin province confirmed the student; the destination has no duplicate")

        steps = [
            (destination, "school_leader", "转入学校同意接收"),
            (destination, "county", "转入地教育局审核通过"),
            (origin, "school_registrar", "转出学校同意转出"),
            (origin, "county", "转出地教育局审核通过"),
        ]
        move_trace_id = ""
        for province, role, opinion in steps:
            if province == origin:
                self.wait_for(
                    f"the case in {origin} waiting for {role}",
                    partial(self.in_queue, origin, role, transfer_id),
                )
            response = self.call(
                "POST",
                province,
                "transfer",
                f"/api/v1/transfers/{transfer_id}/approve",
                role=role,
                json={"opinion": opinion},
            )
            move_trace_id = trace_id_of(response)
            self.log(f"   {province} {role} approved → {response.json()['state']}")

        final_dest = self.wait_case(
            destination, transfer_id, "school_registrar", lambda c: c["state"] == "COMPLETED", "records moved"
        )
        final_origin = self.wait_case(
            origin,
            transfer_id,
            "school_registrar",
            lambda c: c["state"] == "COMPLETED",
            "completion reported back",
        )
        self.log(f"3. records moved: case COMPLETED in {destination} and {origin}")

        in_destination = self.wait_for(
            f"the record in {destination}",
            partial(
                self.get_json, destination, "enrollment", f"/api/v1/students/{student_id}", "school_registrar"
            ),
        )
        in_origin = (
            self.get_json(origin, "enrollment", f"/api/v1/students/{student_id}", "school_registrar") or {}
        )
        read_models: dict[str, dict[str, str]] = {}
        for province, expected in ((destination, "in_school"), (origin, "transferred_out")):
            read_models[province] = {}
            for service in ("checkin", "certificates"):
                view = self.wait_for(
                    f"{service}@{province} read model showing {expected}",
                    partial(self.view_with_status, province, service, student_id, expected),
                )
                read_models[province][service] = view["status"]

        imported = self.import_class(destination)
        checked_in = CheckInStep(self, destination).run()

        report = {
            "class_import": imported,
            "check_in": checked_in,
            "student_id": student_id,
            "student_number_masked": mask_student_number(student_number),
            "transfer_id": transfer_id,
            "transfer_trace_id": transfer_trace_id,
            "final_approval_trace_id": move_trace_id,
            "final_states": {
                "transfer": {destination: final_dest["state"], origin: final_origin["state"]},
                "enrollment": {destination: in_destination.get("status"), origin: in_origin.get("status")},
                "read_models": read_models,
                "same_student_number": in_destination.get("student_number")
                == mask_student_number(student_number),
            },
            "timeline": {
                destination: final_dest.get("timeline", []),
                origin: final_origin.get("timeline", []),
            },
        }
        return report

    # -- step 4: a class registered by Excel ------------------------------------------------------
    def import_class(self, province: str) -> dict[str, Any]:
        """4. The registrar uploads a class workbook (one mistyped ID among seven students) and
        reads the per-row report. A class is imported once: on a second run the first import's
        report is shown again."""
        school = self.account(province, "school_registrar")["organisation"]
        class_id = f"class-{school}-2025-1"
        base = self.deployment.base_url(province, "enrollment")
        headers = {"Authorization": f"Bearer {self.token(province, 'school_registrar')}"}
        self.log(f"4. {province} registrar imports class {class_id} from an Excel workbook")
        response = self.client.post(
            f"{base}/api/v1/registrations/imports",
            files={"file": ("2025级计算机应用1班.xlsx", demo_workbook(), XLSX)},
            data={"class_id": class_id},
            headers=headers,
        )
        if response.status_code == 409:
            listed = self.client.get(
                f"{base}/api/v1/registrations/imports", params={"class_id": class_id}, headers=headers
            ).json()
            import_id = listed["items"][-1]["id"]
            self.log("   the class was imported on an earlier run (a class is imported once); its report:")
        else:
            self._expect(response, 202)
            import_id = response.json()["id"]

        def done() -> dict[str, Any] | None:
            progress = self.get_json(
                province, "enrollment", f"/api/v1/registrations/imports/{import_id}", "school_registrar"
            )
            return progress if progress and progress["status"] == "done" else None

        progress: dict[str, Any] = self.wait_for("the import to finish", done)
        report = self.get_json(
            province, "enrollment", f"/api/v1/registrations/imports/{import_id}/report", "school_registrar"
        ) or {"failed_rows": [], "notes": []}
        self.log(
            f"   {progress['total']} rows: {progress['registered']} registered, {progress['failed']} failed"
        )
        for row in report["failed_rows"]:
            self.log(f"   ✗ {row['message_zh']}")
        for note in report["notes"]:
            self.log(f"   ! {note}")
        self.log(f"   failed rows to fix: {base}/api/v1/registrations/imports/{import_id}/failed-rows.xlsx")
        return {"import_id": import_id, "progress": progress, "report": report}
