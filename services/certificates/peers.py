"""The province's other services that certificates asks synchronously: enrollment for the facts a
certificate prints (shared/certificate_facts.py), identity for the accepted ID photo (DESIGN.md
"Photos": fetched by reference through identity's internal endpoint, cached by content hash).

Both are internal endpoints authenticated with the province's service token. The transport can
be given (tests serve the contracts in-process); by default it is the network.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

import httpx

from shared.certificate_facts import (
    MAX_STUDENTS_PER_REQUEST,
    CertificateFacts,
    CertificateFactsAnswer,
    CertificateFactsRequest,
)
from shared.settings import Settings

PHOTO_CACHE_SIZE = 2048
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class PeerUnavailable(Exception):
    """Enrollment or identity did not answer as the contract says; the caller retries later."""


class Peers:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        headers = {"Authorization": f"Service {settings.service_token or ''}"}
        self._enrollment = httpx.AsyncClient(
            base_url=settings.enrollment_url, headers=headers, transport=transport, timeout=TIMEOUT
        )
        self._identity = httpx.AsyncClient(
            base_url=settings.identity_url, headers=headers, transport=transport, timeout=TIMEOUT
        )
        # student id → (content hash, bytes): a batch of a school asks each photo once.
        self._photos: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    async def certificate_facts(self, student_ids: list[str]) -> dict[str, CertificateFacts]:
        """The facts of every student asked for that enrollment holds."""
        found: dict[str, CertificateFacts] = {}
        for start in range(0, len(student_ids), MAX_STUDENTS_PER_REQUEST):
            chunk = student_ids[start : start + MAX_STUDENTS_PER_REQUEST]
            body = CertificateFactsRequest(student_ids=chunk).model_dump(mode="json")
            try:
                response = await self._enrollment.post("/internal/v1/certificate-facts", json=body)
                response.raise_for_status()
                answer = CertificateFactsAnswer.model_validate_json(response.content)
            except (httpx.HTTPError, ValueError) as error:
                raise PeerUnavailable(f"enrollment's certificate facts: {error}") from error
            found.update((facts.student_id, facts) for facts in answer.facts)
        return found

    async def id_photo(self, student_id: str) -> bytes | None:
        """The student's accepted ID photo, or None when identity has none."""
        cached = self._photos.get(student_id)
        headers = {"If-None-Match": f'"{cached[0]}"'} if cached else {}
        try:
            response = await self._identity.get(f"/internal/v1/students/{student_id}/photo", headers=headers)
        except httpx.HTTPError as error:
            raise PeerUnavailable(f"identity's ID photo: {error}") from error
        if response.status_code == 304 and cached:
            return cached[1]
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PeerUnavailable(f"identity's ID photo: HTTP {response.status_code}")
        content = response.content
        self._photos[student_id] = (hashlib.sha256(content).hexdigest(), content)
        self._photos.move_to_end(student_id)
        while len(self._photos) > PHOTO_CACHE_SIZE:
            self._photos.popitem(last=False)
        return content

    async def aclose(self) -> None:
        await self._enrollment.aclose()
        await self._identity.aclose()
