"""Calls to the province's services with the signed-in user's token (backend-for-frontend).

The console decides nothing about who may see what: each service filters by the token's
jurisdiction, and the console shows what came back. A service's problem details travel to the
page as :class:`UpstreamProblem`, so the user reads the service's own reason and field."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from opentelemetry import propagate

Service = Literal["identity", "enrollment", "checkin", "transfer", "certificates"]


@dataclass(frozen=True)
class FieldReason:
    field: str
    reason: str
    reason_zh: str


@dataclass
class UpstreamProblem(Exception):
    """A service answered 4xx/5xx; ``title_zh``/``detail`` and ``errors`` come from its problem details."""

    status: int
    title: str
    title_zh: str
    detail: str = ""
    errors: list[FieldReason] = field(default_factory=list)
    retry_after: str | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"

    @classmethod
    def from_response(cls, response: httpx.Response) -> UpstreamProblem:
        body: dict[str, Any] = {}
        with contextlib.suppress(ValueError):  # not JSON (a proxy's page): the status speaks
            parsed = response.json()
            if isinstance(parsed, dict):
                body = parsed
        raw_errors = body.get("errors") if isinstance(body.get("errors"), list) else []
        errors = [
            FieldReason(str(e.get("field", "")), str(e.get("reason", "")), str(e.get("reason_zh", "")))
            for e in raw_errors or []
            if isinstance(e, dict)
        ]
        title = str(body.get("title") or response.reason_phrase)
        return cls(
            status=response.status_code,
            title=title,
            title_zh=str(body.get("title_zh") or title),
            detail=str(body.get("detail") or ""),
            errors=errors,
            retry_after=response.headers.get("Retry-After"),
        )


class ServiceUnavailable(UpstreamProblem):
    """The service could not be reached at all."""


class Upstream:
    """One pooled HTTP client per service; every call carries the caller's bearer token and the
    trace context, so one trace runs from the click to the database."""

    def __init__(self, urls: dict[str, str], *, timeout: float) -> None:
        self._clients = {name: httpx.AsyncClient(base_url=url, timeout=timeout) for name, url in urls.items()}

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()

    async def request(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        token: str | None,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        content: bytes | None = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        client_address: str | None = None,
    ) -> httpx.Response:
        """The raw response when it is 2xx/3xx; :class:`UpstreamProblem` otherwise.

        ``client_address``: the browser's, for a service that limits per client (sign-in
        failures, public verifications); without it every visitor would count as the console.
        uvicorn takes ``X-Forwarded-For`` only from the proxies ``FORWARDED_ALLOW_IPS`` names
        (127.0.0.1 by default: the local deployment; compose and clusters name the console)."""
        sent = dict(headers or {})
        if client_address:
            sent["X-Forwarded-For"] = client_address
        if token:
            sent["Authorization"] = f"Bearer {token}"
        propagate.inject(sent)
        try:
            response = await self._clients[service].request(
                method, path, params=params, json=json, data=data, content=content, files=files, headers=sent
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(
                503, "Service unavailable", "服务暂不可用", detail=f"{service}: {type(exc).__name__}"
            ) from exc
        if response.status_code >= 400:
            raise UpstreamProblem.from_response(response)
        return response

    async def get_json(self, service: Service, path: str, *, token: str | None, params: Any = None) -> Any:
        return (await self.request(service, "GET", path, token=token, params=params)).json()

    async def post_json(self, service: Service, path: str, *, token: str | None, json: Any = None) -> Any:
        response = await self.request(service, "POST", path, token=token, json=json)
        return response.json() if response.content else None
