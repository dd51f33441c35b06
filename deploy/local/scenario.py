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
   the province publishes (deploy/local/checkin_step.py);
6. a student moves between two cities of 41 (省内转学), up to the province's approval;
7. two cross-province applications are cancelled (撤销), one by each province's decision;
8. every case's timeline is printed (steps 1–3 and 6–8: deploy/local/transfer_steps.py);
9. a 2023 class of 41 graduates: filed under the province's supplementary window, listed,
   approved by the school and the county, issued by the province, printed as a batch, and one
   certificate verified on the public endpoint (deploy/local/graduation_step.py).

Run by ``make demo`` (via ``python -m deploy.local.demo``) and by the end-to-end test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import httpx

from deploy.local.checkin_step import CheckInStep
from deploy.local.class_workbook import demo_workbook
from deploy.local.graduation_step import GraduationStep
from deploy.local.layout import Deployment, read_seed
from deploy.local.transfer_steps import DESTINATION, ORIGIN, Student, TransferSteps, summary
from shared.idnumber import mask_student_number

TOKEN_REUSE_SECONDS = 600

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
    # username -> (when it was fetched, token): identity's tokens live 15 minutes, so a token is
    # used for 10 at most and then fetched again (a long user of ``call`` would otherwise 401).
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict)
    # Full student numbers of the students the story registered, by student id: the tests
    # look records up by number; the report (written to disk) keeps only masked ones.
    student_numbers: dict[str, str] = field(default_factory=dict)

    # -- helpers ---------------------------------------------------------------------------
    def account(self, province: str, role: str, org: str | None = None) -> dict[str, str]:
        """The province's first account of ``role`` (of organisation ``org`` when given)."""
        for account in self.accounts:
            if (
                account["province"] == province
                and account["role"] == role
                and org in (None, account["organisation"])
            ):
                return account
        raise ScenarioFailed(f"no {role} account{f' of {org}' if org else ''} in {province}")

    def token(self, province: str, role: str, org: str | None = None) -> str:
        account = self.account(province, role, org)
        held = self._tokens.get(account["username"])
        if held is None or time.monotonic() - held[0] > TOKEN_REUSE_SECONDS:
            response = self.client.post(
                f"{self.deployment.base_url(province, 'identity')}/api/v1/auth/token",
                data={"username": account["username"], "password": account["password"]},
            )
            self.expect(response, 200)
            held = (time.monotonic(), response.json()["access_token"])
            self._tokens[account["username"]] = held
        return held[1]

    def call(
        self,
        method: str,
        province: str,
        service: str,
        path: str,
        *,
        role: str,
        org: str | None = None,
        json: Any = None,
        expect: int = 200,
    ) -> httpx.Response:
        response = self.client.request(
            method,
            f"{self.deployment.base_url(province, service)}{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.token(province, role, org)}"},
        )
        self.expect(response, expect)
        return response

    @staticmethod
    def expect(response: httpx.Response, status: int) -> None:
        if response.status_code != status:
            raise ScenarioFailed(
                f"{response.request.method} {response.request.url} → {response.status_code}, "
                f"expected {status}: {response.text[:500]}"
            )

    @staticmethod
    def failed(what: str, seen: Any) -> ScenarioFailed:
        return ScenarioFailed(f"{what}; seen: {str(seen)[:800]}")

    @staticmethod
    def trace_id(response: httpx.Response) -> str:
        return trace_id_of(response)

    @staticmethod
    def county_of(province: str, school: str) -> str:
        """The county a seeded school belongs to (deploy/seed/<province>.json)."""
        for city in read_seed(province)["cities"]:
            for county in city["counties"]:
                if any(s["code"] == school for s in county["schools"]):
                    return str(county["code"])
        raise ScenarioFailed(f"school {school} is not in the seed of {province}")

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(0.25)
        raise ScenarioFailed(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last!r}")

    def get_json(
        self, province: str, service: str, path: str, role: str, org: str | None = None
    ) -> dict[str, Any] | None:
        response = self.client.get(
            f"{self.deployment.base_url(province, service)}{path}",
            headers={"Authorization": f"Bearer {self.token(province, role, org)}"},
        )
        return response.json() if response.status_code == 200 else None

    def in_queue(self, province: str, role: str, transfer_id: str, org: str | None = None) -> bool:
        queue = self.get_json(province, "transfer", "/api/v1/transfers/queue", role, org) or {}
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
        origin, destination = ORIGIN, DESTINATION
        transfers = TransferSteps(self)
        across = transfers.cross_province()
        student: Student = across["student"]
        transfer_id = across["transfer_id"]
        final_dest, final_origin = across["cases"][destination], across["cases"][origin]

        in_destination = self.wait_for(
            f"the record in {destination}",
            partial(
                self.get_json, destination, "enrollment", f"/api/v1/students/{student.id}", "school_registrar"
            ),
        )
        in_origin = (
            self.get_json(origin, "enrollment", f"/api/v1/students/{student.id}", "school_registrar") or {}
        )
        read_models: dict[str, dict[str, str]] = {}
        for province, expected in ((destination, "in_school"), (origin, "transferred_out")):
            read_models[province] = {}
            for service in ("checkin", "certificates"):
                view = self.wait_for(
                    f"{service}@{province} read model showing {expected}",
                    partial(self.view_with_status, province, service, student.id, expected),
                )
                read_models[province][service] = view["status"]

        imported = self.import_class(destination)
        checked_in = CheckInStep(self, destination).run()

        within = transfers.in_province()
        cancelled_here = transfers.cancelled_while_held_here()
        cancelled_by_origin = transfers.cancelled_by_origin()
        for registered in (student, within["student"]):
            self.student_numbers[registered.id] = registered.number

        self.log("8. the timelines (时间线), as each province shows them")
        transfers.print_timeline("跨省转学", across["cases"])
        transfers.print_timeline("省内转学（跨市）", {destination: within["case"]})
        transfers.print_timeline("跨省转学，转入省办理中撤销", cancelled_here["cases"])
        transfers.print_timeline("跨省转学，转出省办理中撤销", cancelled_by_origin["cases"])

        graduation = GraduationStep(self, destination).run()

        return {
            "class_import": imported,
            "check_in": checked_in,
            "graduation": graduation,
            "student_id": student.id,
            "student_number_masked": mask_student_number(student.number),
            "transfer_id": transfer_id,
            "transfer_trace_id": across["transfer_trace_id"],
            "final_approval_trace_id": across["final_approval_trace_id"],
            "final_states": {
                "transfer": {destination: final_dest["state"], origin: final_origin["state"]},
                "enrollment": {destination: in_destination.get("status"), origin: in_origin.get("status")},
                "read_models": read_models,
                "same_student_number": in_destination.get("student_number")
                == mask_student_number(student.number),
            },
            "timeline": {
                destination: final_dest.get("timeline", []),
                origin: final_origin.get("timeline", []),
            },
            "transfers": {
                "cross_province": {"id": transfer_id, **summary(across["cases"])},
                "in_province": {
                    "id": within["transfer_id"],
                    **summary({destination: within["case"]}),
                    "student_id": within["student"].id,
                    "student_number_masked": mask_student_number(within["student"].number),
                    "school_after": within["record"]["lineage"]["school"],
                    "status_after": within["record"]["status"],
                    "history": within["history"],
                },
                "cancelled_while_held_here": {
                    "id": cancelled_here["transfer_id"],
                    "cancel_status": cancelled_here["cancel_status"],
                    **summary(cancelled_here["cases"]),
                },
                "cancelled_by_origin": {
                    "id": cancelled_by_origin["transfer_id"],
                    "cancel_status": cancelled_by_origin["cancel_status"],
                    **summary(cancelled_by_origin["cases"]),
                },
            },
        }

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
            self.expect(response, 202)
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
