"""Step 9 of the demo: a class graduates, its certificates are printed and one is verified.

The demo runs in late 2026, and a certificate is issued from 11 June of the graduating year
(seed 004 art. 17), so the class that graduates is the 2023 intake of 3 years. Over HTTP, with
the demo accounts:

1. the province files the school's 2023 enrolment qualification (招生资质) for the major;
2. the 41 registrar imports the 2023 class (registered late, under the province's supplementary
   window 补注册 of deploy/seed/41.json) and files (备案) the 2023 intake — the window reopens
   filing too (seed 004 art. 7: an unfiled student gets no certificate);
3. certificates' pre-graduate list shows them ready; the registrar submits the graduation list
   (毕业 for all), the school leader and the county approve, the province issues;
4. the registrar asks for the school's print batch, waits for 100 %, downloads the printer's
   file and the graduate list to stamp (art. 18);
5. anyone verifies one certificate by number and name on the public endpoint.

A second run reuses what the first did: the class is imported once, the intake filed once, an
issued list and a finished batch are shown again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.local.class_workbook import graduating_rows, graduating_workbook

if TYPE_CHECKING:
    from deploy.local.scenario import Scenario

INTAKE_YEAR = 2023
GRADUATING_YEAR = 2026  # INTAKE_YEAR + 3 years of study
MAJOR = "710201"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Who decides at each level of the graduation review chain (services/certificates/domain).
ROLE_OF_LEVEL = {"school": "school_leader", "county": "county", "city": "city", "province": "province"}
# Printing renders each certificate with Typst: allow for a slow machine.
PRINT_SECONDS = 180.0


class GraduationStep:
    def __init__(self, scenario: Scenario, province: str) -> None:
        self.s = scenario
        self.province = province
        self.school = scenario.account(province, "school_registrar")["organisation"]
        self.county = scenario.county_of(province, self.school)
        self.class_id = f"class-{self.school}-{INTAKE_YEAR}-1"
        self.names = {row["姓名"] for row in graduating_rows()}
        self.files = scenario.deployment.home / "certificates-demo"

    def run(self) -> dict[str, Any]:
        self.s.log(
            f"9. {self.school} graduates its {INTAKE_YEAR} class in {GRADUATING_YEAR}: "
            "graduation list, certificates, print batch, verification"
        )
        self._qualification()
        imported = self._import_class()
        filed = self._file_intake()
        graduation_list = self._graduation_list()
        certificates = self._issue(graduation_list)
        batch = self._print_batch()
        printer_file = self._download(f"/api/v1/print-batches/{batch['id']}/printer.pdf", "printer.pdf")
        graduate_list = self._download(
            f"/api/v1/graduate-lists/{self.school}/{GRADUATING_YEAR}.pdf", "graduate-list.pdf"
        )
        verification = self._verify(certificates[0])
        self.s.log(f"   printer's file: {printer_file.resolve()}")
        self.s.log(f"   graduate list to stamp: {graduate_list.resolve()}")
        self.s.log(
            "   the batch's files on the server: "
            f"{self.s.deployment.certificate_output_dir(self.province).resolve()}"
        )
        self.s.log(
            f"   verification page: {self.s.deployment.base_url(self.province, 'certificates')}/verify"
        )
        return {
            "class_id": self.class_id,
            "registered": imported,
            "filed": filed,
            "list_id": graduation_list["id"],
            "list_state": self._list(graduation_list["id"])["state"],
            "reviews": [r["level"] for r in graduation_list.get("reviews", [])],
            "certificates": [
                {"id": c["id"], "number": c["number"], "status": c["status"], "name": c["name"]}
                for c in certificates
            ],
            "print_batch": {"id": batch["id"], "state": batch["state"], "percent": batch["percent"]},
            "printer_file": str(printer_file),
            "printer_file_bytes": printer_file.stat().st_size,
            "graduate_list_file": str(graduate_list),
            "verification": {"number": certificates[0]["number"], "state": verification["state"]},
        }

    # -- 1. the qualification -------------------------------------------------------------------
    def _qualification(self) -> None:
        """Filed over the API, not seeded: the province's qualifications reach certificates as
        events (QualificationFiled), and the seed's own emit none. Filed once: 409 on a re-run."""
        response = self.s.client.post(
            f"{self.s.deployment.base_url(self.province, 'enrollment')}/api/v1/qualifications",
            json={"school_code": self.school, "major_code": MAJOR, "year": INTAKE_YEAR},
            headers=self._auth("province"),
        )
        if response.status_code not in (201, 409):
            self.s.expect(response, 201)
        self.s.log(f"   the province files the {INTAKE_YEAR} qualification (招生资质) of major {MAJOR}")

    # -- 2. the class and its filing --------------------------------------------------------------
    def _import_class(self) -> int:
        base = self.s.deployment.base_url(self.province, "enrollment")
        headers = self._auth("school_registrar")
        response = self.s.client.post(
            f"{base}/api/v1/registrations/imports",
            files={"file": (f"{INTAKE_YEAR}级计算机应用1班.xlsx", graduating_workbook(), XLSX)},
            data={"class_id": self.class_id},
            headers=headers,
        )
        if response.status_code == 409:  # imported on an earlier run (a class is imported once)
            listed = self.s.client.get(
                f"{base}/api/v1/registrations/imports", params={"class_id": self.class_id}, headers=headers
            ).json()
            import_id = listed["items"][-1]["id"]
        else:
            self.s.expect(response, 202)
            import_id = response.json()["id"]

        def done() -> dict[str, Any] | None:
            progress = self.s.get_json(
                self.province, "enrollment", f"/api/v1/registrations/imports/{import_id}", "school_registrar"
            )
            return progress if progress and progress["status"] == "done" else None

        progress: dict[str, Any] = self.s.wait_for(f"the import of {self.class_id}", done)
        if progress["registered"] != len(self.names):
            raise self.s.failed(f"all {len(self.names)} students of {self.class_id} registered", progress)
        self.s.log(f"   {progress['registered']} students of {self.class_id} registered (补注册)")
        return int(progress["registered"])

    def _file_intake(self) -> int:
        """备案 of the intake; on a re-run nothing is left to file (422), and that is fine."""
        response = self.s.client.post(
            f"{self.s.deployment.base_url(self.province, 'enrollment')}/api/v1/filings",
            json={"intake_year": INTAKE_YEAR, "season": "autumn"},
            headers=self._auth("school_registrar"),
        )
        if response.status_code == 422:
            self.s.log(f"   the {INTAKE_YEAR} intake was filed on an earlier run")
            return 0
        self.s.expect(response, 201)
        filing = response.json()
        if filing["refused"]:
            raise self.s.failed("every student of the intake filed", filing["refused"])
        self.s.log(f"   the {INTAKE_YEAR} intake filed (备案): {filing['filed_count']} students")
        return int(filing["filed_count"])

    # -- 3. the graduation list -------------------------------------------------------------------
    def _graduation_list(self) -> dict[str, Any]:
        """The year's list of the school: an issued or reviewed one from an earlier run, else a
        new one of the class once certificates shows every student ready; reviewed to the end."""
        lists = self._certificates_get(
            f"/api/v1/graduation-lists?school_code={self.school}&year={GRADUATING_YEAR}", "school_registrar"
        )
        live = [item for item in lists["items"] if item["state"] in ("issued", "approved", "under_review")]
        if live:
            list_id = live[0]["id"]
            self.s.log(f"   graduation list {list_id} of an earlier run ({live[0]['state']})")
        else:
            ready = self._wait_ready()
            response = self.s.call(
                "POST",
                self.province,
                "certificates",
                "/api/v1/graduation-lists",
                role="school_registrar",
                json={
                    "graduating_year": GRADUATING_YEAR,
                    "entries": [{"student_id": i, "outcome": "graduated"} for i in ready],
                },
                expect=201,
            )
            list_id = response.json()["id"]
            self.s.log(f"   the registrar submits graduation list {list_id}: {len(ready)} × 毕业")
        detail = self._list(list_id)
        while detail["state"] == "under_review":
            level = detail["pending_level"]
            role = ROLE_OF_LEVEL[level]
            org = {"school": self.school, "county": self.county}.get(level)
            self.s.call(
                "POST",
                self.province,
                "certificates",
                f"/api/v1/graduation-lists/{list_id}/decision",
                role=role,
                org=org,
                json={"decision": "approve", "opinion": "同意毕业"},
            )
            self.s.log(f"   {role} approves at the {level} level")
            detail = self._list(list_id)
        if detail["state"] not in ("approved", "issued"):
            raise self.s.failed(f"graduation list {list_id} approved", detail)
        return detail

    def _wait_ready(self) -> list[str]:
        """The class's student ids, once certificates' read models show each of them ready
        (registered, filed, qualified: events from enrollment)."""

        def probe() -> list[str] | None:
            page = self._certificates_get(
                f"/api/v1/pre-graduates?school_code={self.school}&year={GRADUATING_YEAR}&limit=500",
                "school_registrar",
            )
            ours = [
                item for item in page["items"] if item["grade"] == INTAKE_YEAR and item["name"] in self.names
            ]
            if len(ours) == len(self.names) and all(item["ready"] for item in ours):
                return [item["student_id"] for item in ours]
            return None

        ready: list[str] = self.s.wait_for("the class on the pre-graduate list, ready", probe)
        self.s.log(f"   pre-graduate list (预毕业生): {len(ready)} students of {INTAKE_YEAR} ready")
        return ready

    def _list(self, list_id: str) -> dict[str, Any]:
        detail: dict[str, Any] = self._certificates_get(
            f"/api/v1/graduation-lists/{list_id}", "school_registrar"
        )
        return detail

    # -- issuing ------------------------------------------------------------------------------------
    def _issue(self, graduation_list: dict[str, Any]) -> list[dict[str, Any]]:
        list_id = graduation_list["id"]
        if graduation_list["state"] == "approved":
            issued = self.s.call(
                "POST",
                self.province,
                "certificates",
                f"/api/v1/graduation-lists/{list_id}/issue",
                role="province",
            ).json()
            self.s.log(
                f"   the province issues {len(issued['certificates'])} certificates on {issued['issued_on']}"
            )
        page = self._certificates_get(
            f"/api/v1/certificates?school={self.school}&year={GRADUATING_YEAR}&status=valid", "province"
        )
        ours = [c for c in page["items"] if c["name"] in self.names]
        if len(ours) != len(self.names):
            raise self.s.failed(f"{len(self.names)} valid certificates of {self.class_id}", page)
        for certificate in ours:
            self.s.log(
                f"   {certificate['number_grouped']}  {certificate['name']}  ({certificate['status']})"
            )
        return ours

    # -- 4. printing --------------------------------------------------------------------------------
    def _print_batch(self) -> dict[str, Any]:
        batches = self._certificates_get(
            f"/api/v1/print-batches?graduating_year={GRADUATING_YEAR}&state=done", "school_registrar"
        )
        earlier = [b for b in batches if b["scope"] == self.school and b["purpose"] == "issue"]
        if earlier:
            self.s.log(f"   print batch {earlier[0]['id']} of an earlier run, done")
            return dict(earlier[0])
        batch = self.s.call(
            "POST",
            self.province,
            "certificates",
            "/api/v1/print-batches",
            role="school_registrar",
            json={"scope": self.school, "graduating_year": GRADUATING_YEAR, "purpose": "issue"},
            expect=202,
        ).json()
        self.s.log(f"   print batch {batch['id']} asked for ({batch['total']} certificates)")

        def finished() -> dict[str, Any] | None:
            seen = self._certificates_get(f"/api/v1/print-batches/{batch['id']}", "school_registrar")
            if seen["state"] == "failed":
                raise self.s.failed(f"print batch {batch['id']} rendered", seen)
            return seen if seen["state"] == "done" and seen["percent"] == 100 else None

        done: dict[str, Any] = self.s.wait_for(f"print batch {batch['id']} at 100 %", finished, PRINT_SECONDS)
        self.s.log(f"   print batch done: {done['done']}/{done['total']} (100 %)")
        return done

    def _download(self, path: str, name: str) -> Path:
        response = self.s.call("GET", self.province, "certificates", path, role="school_registrar")
        if not response.content.startswith(b"%PDF"):
            raise self.s.failed(f"a PDF at {path}", response.content[:80])
        self.files.mkdir(parents=True, exist_ok=True)
        target = self.files / name
        target.write_bytes(response.content)
        return target

    # -- 5. verification ----------------------------------------------------------------------------
    def _verify(self, certificate: dict[str, Any]) -> dict[str, Any]:
        """Anonymous, as an employer would: number and name as printed."""
        response = self.s.client.post(
            f"{self.s.deployment.base_url(self.province, 'certificates')}/api/v1/public/verifications",
            json={"number": certificate["number_grouped"], "name": certificate["name"]},
        )
        self.s.expect(response, 200)
        answer: dict[str, Any] = response.json()
        if answer["state"] != "valid":
            raise self.s.failed(f"certificate {certificate['number']} verified valid", answer)
        self.s.log(f"   public verification of {certificate['number_grouped']}: {answer['message_zh']}")
        return answer

    # -- helpers ------------------------------------------------------------------------------------
    def _auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.s.token(self.province, role)}"}

    def _certificates_get(self, path: str, role: str) -> Any:
        return self.s.call("GET", self.province, "certificates", path, role=role).json()
