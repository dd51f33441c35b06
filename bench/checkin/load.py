"""The phones: many concurrent clients, each check-in a signed multipart request prepared
before the clock starts (so the clients' own CPU is spent sending, not encoding)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

BOUNDARY = "xuejibenchboundary7d1"


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float
    accuracy_m: float
    crs: str


@dataclass(frozen=True)
class PreparedCheckIn:
    student_id: str
    token: str
    body: bytes


@dataclass
class BlastResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    @property
    def accepted_per_second(self) -> float:
        return len(self.accepted_ids) / max(self.finished - self.started, 1e-9)


def multipart(payload: bytes, signature: str, selfie: bytes) -> bytes:
    def part(name: str, content: bytes, extra: str = "") -> bytes:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n'
        return head.encode() + content + b"\r\n"

    return (
        part("payload", b"Content-Type: application/json\r\n\r\n" + payload)
        + part("signature", b"\r\n" + signature.encode())
        + part("selfie", b"Content-Type: image/jpeg\r\n\r\n" + selfie, '; filename="selfie.jpg"')
        + f"--{BOUNDARY}--\r\n".encode()
    )


def signed_check_in(
    *, round_id: str, nonce: str, position: Position, device_id: str, selfie: bytes, key: Ed25519PrivateKey
) -> bytes:
    payload = json.dumps(
        {
            "round_id": round_id,
            "nonce": nonce,
            "latitude": position.latitude,
            "longitude": position.longitude,
            "accuracy_m": position.accuracy_m,
            "crs": position.crs,
            "device_id": device_id,
            "emulator": False,
            "mock_location": False,
            "rooted": False,
            "selfie_sha256": hashlib.sha256(selfie).hexdigest(),
            "captured_at": datetime.now(UTC).isoformat(),
        },
        ensure_ascii=False,
    ).encode()
    return multipart(payload, base64.b64encode(key.sign(payload)).decode(), selfie)


async def fetch_nonces(
    bases: list[str], round_id: str, tokens: dict[str, str], concurrency: int
) -> tuple[dict[str, str], float]:
    """One server nonce per student for the round; returns them and the requests per second."""
    nonces: dict[str, str] = {}
    queue = list(tokens.items())
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(n: int) -> None:
            base = bases[n % len(bases)]
            while queue:
                student_id, token = queue.pop()
                async with session.post(
                    f"{base}/api/v1/rounds/{round_id}/challenge", headers={"Authorization": f"Bearer {token}"}
                ) as response:
                    body = await response.json()
                    if response.status != 200:
                        raise RuntimeError(f"challenge refused: {response.status} {body}")
                    nonces[student_id] = body["nonce"]

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        return nonces, len(nonces) / (time.perf_counter() - started)


async def blast(bases: list[str], prepared: list[PreparedCheckIn], concurrency: int) -> BlastResult:
    """Sends every prepared check-in, ``concurrency`` at a time, round-robin over the processes."""
    result = BlastResult()
    queue = list(reversed(prepared))
    content_type = f"multipart/form-data; boundary={BOUNDARY}"
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(n: int) -> None:
            base = bases[n % len(bases)]
            while queue:
                item = queue.pop()
                headers = {"Authorization": f"Bearer {item.token}", "Content-Type": content_type}
                sent = time.perf_counter()
                async with session.post(
                    f"{base}/api/v1/check-ins", data=item.body, headers=headers
                ) as response:
                    body = await response.read()
                    result.latencies.append(time.perf_counter() - sent)
                    result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
                    if response.status == 202:
                        result.accepted_ids.append(json.loads(body)["check_in_id"])
                    elif len(result.errors) < 5:
                        result.errors.append(f"{response.status} {body[:300]!r}")

        result.started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        result.finished = time.perf_counter()
    return result


def new_device_id() -> str:
    return f"bench-device-{uuid.uuid4().hex[:12]}"
