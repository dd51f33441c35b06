"""Step 5 of the demo: a student of the imported class activates the app and checks in.

The school registers its campus boundary (once), the province publishes a verification round
that opens at once, a student activates the phone app (real-name check, the code from the
phone — read from identity's log, where the demo's SMS stand-in writes it — a password and the
app's device key), fetches the round's server nonce, and sends a signed check-in from inside
the campus, in GCJ-02 as Chinese map SDKs report it. The result follows.

The device key is derived from a fixed seed so that a second ``make demo`` signs with the key
the first one registered (the account is activated only once).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PIL import Image

from deploy.local.class_workbook import demo_rows
from services.checkin.domain.gcj02 import wgs84_to_gcj02

if TYPE_CHECKING:
    from deploy.local.scenario import Scenario

# 郑州市中原区, a 500 m square campus (WGS-84, longitude first as GeoJSON wants).
CAMPUS_LAT, CAMPUS_LON = 34.7480, 113.6000
_HALF_LAT, _HALF_LON = 0.00225, 0.00273
DEMO_PHONE = "13800138000"
DEMO_PASSWORD = "Demo-student-2026"


def campus_boundary() -> dict[str, Any]:
    ring = [
        [CAMPUS_LON - _HALF_LON, CAMPUS_LAT - _HALF_LAT],
        [CAMPUS_LON + _HALF_LON, CAMPUS_LAT - _HALF_LAT],
        [CAMPUS_LON + _HALF_LON, CAMPUS_LAT + _HALF_LAT],
        [CAMPUS_LON - _HALF_LON, CAMPUS_LAT + _HALF_LAT],
        [CAMPUS_LON - _HALF_LON, CAMPUS_LAT - _HALF_LAT],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def demo_device_key(province: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"xueji-demo-phone-{province}".encode()).digest()
    )


def _selfie() -> bytes:
    """A JPEG the size a phone app uploads (the round samples no face, so any picture will do)."""
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (200, 170, 150)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue() + datetime.now(UTC).isoformat().encode()  # fresh bytes each run


class CheckInStep:
    def __init__(self, scenario: Scenario, province: str) -> None:
        self.s = scenario
        self.province = province
        self.school = scenario.account(province, "school_registrar")["organisation"]
        self.state_file = scenario.deployment.home / f"demo-student-{province}.json"

    def run(self) -> dict[str, Any]:
        self.s.log(
            f"5. a student of {self.school} activates the app and checks in during a verification round"
        )
        inside = self._campus()
        round_id = self._round()
        username = self._activated_student()
        token = self._sign_in(username)
        result = self._check_in(round_id, token, inside)
        self.s.log(
            f"   result: {result.get('result_zh') or result['result']} {result.get('reasons_zh') or ''}"
        )
        return {"round_id": round_id, "student": username, "check_in": result}

    def _campus(self) -> tuple[float, float]:
        """A point inside the school's first campus, in GCJ-02 as a phone's map SDK reports it
        (the campus is registered first when the school has none)."""
        path = f"/api/v1/schools/{self.school}/campuses"
        listed = self.s.call("GET", self.province, "enrollment", path, role="school_registrar").json()
        items = listed if isinstance(listed, list) else listed.get("items", [])
        if not items:
            items = [
                self.s.call(
                    "POST", self.province, "enrollment", path, role="school_registrar", expect=201,
                    json={"name": "主校区", "crs": "WGS-84", "boundary": campus_boundary()},
                ).json()
            ]  # fmt: skip
            self.s.log("   the school registered its campus boundary (WGS-84)")
        campus = items[0]
        ring = campus["boundary"]["coordinates"][0]
        if campus["boundary"]["type"] == "MultiPolygon":
            ring = ring[0]
        # The mean of a convex ring's corners lies inside it (the demo's campuses are rectangles).
        longitude = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
        latitude = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
        if campus["crs"] == "WGS-84":
            return wgs84_to_gcj02(latitude, longitude)
        return latitude, longitude

    def _round(self) -> str:
        now = datetime.now(UTC)
        created = self.s.call(
            "POST",
            self.province,
            "checkin",
            "/api/v1/rounds",
            role="province",
            expect=201,
            json={
                "name": f"演示点名核验 {now:%m-%d %H:%M}",
                "starts_at": now.isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
                "grades": [2025],
                "face_policy": "sampled",
                "face_sample_rate": 0.01,
            },
        ).json()
        round_id = str(created["id"])

        def opened() -> dict[str, Any] | None:
            found = self.s.get_json(self.province, "checkin", f"/api/v1/rounds/{round_id}", "province")
            return found if found and found["state"] == "open" else None

        self.s.wait_for("the round to open", opened)
        self.s.log(f"   the province published round {round_id}; it opened by itself")
        return round_id

    def _activated_student(self) -> str:
        if self.state_file.exists():
            username: str = json.loads(self.state_file.read_text())["username"]
            return username
        row = demo_rows()[0]
        identity = self.s.deployment.base_url(self.province, "identity")

        def code_sent() -> dict[str, Any] | None:
            response = self.s.client.post(
                f"{identity}/api/v1/activation/code",
                json={"name": row["姓名"], "id_number": row["身份证号"], "phone": DEMO_PHONE},
            )
            return response.json() if response.status_code == 202 else None

        sent = self.s.wait_for("identity to know the imported student", code_sent)
        code = self._code_from_log()
        public = demo_device_key(self.province).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        response = self.s.client.post(
            f"{identity}/api/v1/activation",
            json={
                "ticket": sent["ticket"],
                "code": code,
                "password": DEMO_PASSWORD,
                "device_public_key": base64.b64encode(public).decode(),
            },
        )
        self.s.expect(response, 200)
        username = response.json()["username"]
        self.state_file.write_text(json.dumps({"username": username}))
        self.s.log(f"   {row['姓名']} activated the app (code from the phone, password, device key)")
        return username

    def _code_from_log(self) -> str:
        log = self.s.deployment.home / "log" / f"identity-{self.province}.log"
        masked = f"{DEMO_PHONE[:3]}****{DEMO_PHONE[-4:]}"
        for _ in range(50):
            codes = re.findall(rf"verification code for {re.escape(masked)}: (\d{{6}})", log.read_text())
            if codes:
                return str(codes[-1])
            time.sleep(0.1)
        raise RuntimeError(f"no verification code in {log}")

    def _sign_in(self, username: str) -> str:
        response = self.s.client.post(
            f"{self.s.deployment.base_url(self.province, 'identity')}/api/v1/auth/token",
            data={"username": username, "password": DEMO_PASSWORD},
        )
        self.s.expect(response, 200)
        return str(response.json()["access_token"])

    def _check_in(self, round_id: str, token: str, inside: tuple[float, float]) -> dict[str, Any]:
        base = self.s.deployment.base_url(self.province, "checkin")
        headers = {"Authorization": f"Bearer {token}"}
        latitude, longitude = inside
        selfie = _selfie()

        def accepted() -> dict[str, Any] | None:
            # The device key reaches checkin by an event after activation: retry until it has it.
            challenge = self.s.client.post(f"{base}/api/v1/rounds/{round_id}/challenge", headers=headers)
            if challenge.status_code != 200:
                return None
            payload = json.dumps(
                {
                    "round_id": round_id,
                    "nonce": challenge.json()["nonce"],
                    "latitude": latitude,
                    "longitude": longitude,
                    "accuracy_m": 15.0,
                    "crs": "GCJ-02",
                    "device_id": f"demo-phone-{self.province}",
                    "emulator": False,
                    "mock_location": False,
                    "rooted": False,
                    "selfie_sha256": hashlib.sha256(selfie).hexdigest(),
                    "captured_at": datetime.now(UTC).isoformat(),
                }
            ).encode()
            signature = base64.b64encode(demo_device_key(self.province).sign(payload)).decode()
            response = self.s.client.post(
                f"{base}/api/v1/check-ins",
                headers=headers,
                data={"payload": payload.decode(), "signature": signature},
                files={"selfie": ("selfie.jpg", selfie, "image/jpeg")},
            )
            return response.json() if response.status_code == 202 else None

        check_in = self.s.wait_for("the check-in to be accepted", accepted)
        self.s.log(f"   check-in {check_in['check_in_id']} accepted (202), signed by the app's device key")

        def decided() -> dict[str, Any] | None:
            response = self.s.client.get(
                f"{base}/api/v1/check-ins/{check_in['check_in_id']}", headers=headers
            )
            body: dict[str, Any] = response.json()
            return body if response.status_code == 200 and body.get("state") == "decided" else None

        result: dict[str, Any] = self.s.wait_for("the check-in's result", decided)
        return result
