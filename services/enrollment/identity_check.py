"""The identity check against the population registry (人口信息库, DOMAIN.md "Student record").

A resident-ID student whose name and ID number the registry confirms gets a formal number;
anything else — a mismatch, an unknown number, a registry that does not answer — still registers
the student, with a temporary number and a problem record (DOMAIN.md "Enrollment").

``HttpPopulationRegistry`` speaks a small JSON protocol (docs/configuration.md):
``POST <url>`` with ``{"name": …, "id_number": …}`` answers ``{"result": "match" | "mismatch" |
"unknown"}``. ``FilePopulationRegistry`` reads known pairs from a file, for demos.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import httpx

from services.enrollment.domain.registration import names_match
from shared.settings import Settings

log = logging.getLogger(__name__)


class IdentityVerdict(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"  # the number exists under another name
    UNKNOWN = "unknown"  # the registry has no such number
    UNAVAILABLE = "unavailable"  # no answer: treated as a failed check, never as a pass

    @property
    def passed(self) -> bool:
        return self is IdentityVerdict.MATCH

    @property
    def reason_zh(self) -> str:
        return {
            IdentityVerdict.MATCH: "身份信息核验通过",
            IdentityVerdict.MISMATCH: "身份信息核验未通过：姓名与身份证号码不一致",
            IdentityVerdict.UNKNOWN: "身份信息核验未通过：人口信息库中无此身份证号码",
            IdentityVerdict.UNAVAILABLE: "身份信息核验未完成：人口信息库暂时无法访问",
        }[self]


class PopulationRegistry(Protocol):
    # True when a check leaves the process (callers then hold no transaction open across it).
    remote: bool

    async def check(self, name: str, id_number: str) -> IdentityVerdict:
        """Whether ``name`` is the holder of the normalised 18-character ``id_number``."""
        ...


class UncheckedRegistry:
    """No registry configured (development): every check passes. Logged loudly at start."""

    remote = False

    async def check(self, name: str, id_number: str) -> IdentityVerdict:
        return IdentityVerdict.MATCH


class FilePopulationRegistry:
    """Known name + ID pairs from a JSON list (``[{"name", "id_number"}]``) or a CSV file with
    the header ``name,id_number``."""

    remote = False

    def __init__(self, pairs: dict[str, str]) -> None:
        self._names = pairs  # id number -> name

    @classmethod
    def from_file(cls, path: Path) -> FilePopulationRegistry:
        text = path.read_text(encoding="utf-8-sig")
        csv_file = path.suffix.lower() == ".csv"
        rows: list[dict[str, str]] = list(csv.DictReader(io.StringIO(text))) if csv_file else json.loads(text)
        return cls({str(r["id_number"]).strip().upper(): str(r["name"]) for r in rows})

    async def check(self, name: str, id_number: str) -> IdentityVerdict:
        on_record = self._names.get(id_number)
        if on_record is None:
            return IdentityVerdict.UNKNOWN
        return IdentityVerdict.MATCH if names_match(on_record, name) else IdentityVerdict.MISMATCH


class HttpPopulationRegistry:
    """The registry's HTTP endpoint. Timeouts, errors and answers we cannot read are
    ``UNAVAILABLE``: registration goes on with a temporary number rather than waiting."""

    remote = True

    def __init__(self, url: str, *, timeout: float = 3.0, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def check(self, name: str, id_number: str) -> IdentityVerdict:
        try:
            response = await self._client.post(self._url, json={"name": name, "id_number": id_number})
            response.raise_for_status()
            return IdentityVerdict(response.json()["result"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            # The exception text may carry the URL, never the ID number: safe to log.
            log.warning("population registry unavailable: %s", type(exc).__name__)
            return IdentityVerdict.UNAVAILABLE

    async def aclose(self) -> None:
        await self._client.aclose()


def registry_from_settings(settings: Settings) -> PopulationRegistry:
    if settings.population_registry_url:
        return HttpPopulationRegistry(settings.population_registry_url)
    if settings.population_registry_file is not None:
        return FilePopulationRegistry.from_file(settings.population_registry_file)
    log.warning("no population registry configured: identity checks pass unchecked (development only)")
    return UncheckedRegistry()
