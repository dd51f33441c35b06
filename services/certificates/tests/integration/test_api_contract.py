"""The certificates API's contract, route by route: every route but the public verification ones
wants a valid token; no body, however malformed, gets a 5xx or leaves a half-written record; a
caller outside a record's jurisdiction gets 404, as for a record that does not exist.

The routes are read from the running app, so a route added later is swept too (and a route with
a JSON body must be given a caller in ``SWEEP`` before this passes).

These tests run their own process on their own database: the sweep writes the province's review
chain and print settings with whatever valid values it draws, which the other modules' tests rely
on staying as they set them.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from services.certificates.batches.worker import print_worker_of
from services.certificates.models import (
    AuditEntry,
    Certificate,
    EducationCertificateRequest,
    GraduationChainConfig,
    GraduationEntry,
    GraduationList,
    GraduationReview,
    PrintBatch,
    PrintBatchItem,
    VerificationCode,
)
from services.certificates.tests.integration.approved_lists import issued_certificate
from services.certificates.tests.integration.conftest import (
    PROVINCE,
    Area,
    RunningCertificates,
    running_certificates,
)
from shared.auth import Role, TokenIssuer
from shared.bus.tables import OutboxMessage
from shared.china_time import today_in_china
from shared.problems import PROBLEM_JSON
from shared.testing import temporary_database, temporary_vhost

YEAR = 2027
ISSUED_ON = date(YEAR, 6, 11)

# The service's own plumbing, open by design (shared/service.py and FastAPI's docs).
INFRASTRUCTURE = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
}

# Public verification (issue 8 §6; api/verification.py): anyone holding a certificate, its QR or
# a code may check it without an account, rate-limited per client instead of authenticated.
PUBLIC_PREFIX = "/api/v1/public/"
PUBLIC_PATHS = {"/verify", "/C/{payload}", "/c/{payload}"}

# A plausible value for each path parameter: well-formed, naming nothing that exists.
PATH_VALUES = {
    "student_id": str(uuid.UUID(int=1)),
    "list_id": str(uuid.UUID(int=2)),
    "certificate_id": str(uuid.UUID(int=3)),
    "batch_id": str(uuid.UUID(int=4)),
    "request_id": str(uuid.UUID(int=5)),
    "stem": "2027410102414101000110000100",
    "school_code": "4141010001",
    "year": str(YEAR),
    "code": "ABCD2345",
    "payload": "6BFOXN2",
}


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIX) or path in PUBLIC_PATHS


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every APIRoute of the app. FastAPI (0.165) includes routers lazily: ``app.routes`` holds
    one entry per included router, whose own router holds the routes (their paths carry the
    router's prefix; the app includes them without one)."""
    found: list[APIRoute] = []

    def walk(routes: Iterable[Any]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append(route)
            elif (inner := getattr(route, "original_router", None)) is not None:
                walk(inner.routes)

    walk(app.routes)
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)


def operations(routes: Iterable[APIRoute]) -> set[tuple[str, str]]:
    return {(method, route.path) for route in routes for method in route.methods or ()}


def protected(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for method, path in operations(api_routes(app))
        if path not in INFRASTRUCTURE and not is_public(path)
    )


def assert_problem(response: httpx.Response, status: int | None = None) -> dict[str, Any]:
    assert response.headers["content-type"].startswith(PROBLEM_JSON), (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    if status is not None:
        assert response.status_code == status, body
    return body


# --- the process under test ----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def contract(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningCertificates]:
    home: Path = tmp_path_factory.mktemp("certificates-contract")
    with temporary_database() as database_url, temporary_vhost() as amqp_url:
        async for running in running_certificates(home, database_url, amqp_url):
            # Batches the sweep creates stay queued: rendering them is other tests' subject and
            # would only take the shared cores.
            worker = print_worker_of(running.ctx)
            if worker is not None:
                await worker.stop()
            yield running


@pytest.fixture(scope="module")
def place() -> Area:
    return Area(city="4199", county="419901", school="4199010001", other_school="4199010002")


# --- records, inserted as the service leaves them --------------------------------------------------


async def insert_certificate(
    running: RunningCertificates, area: Area, *, school: str | None = None, entry_id: str | None = None
) -> Certificate:
    student = await running.seed_student(lineage=area.lineage(school))
    issued_on = today_in_china() if entry_id else ISSUED_ON
    return await issued_certificate(running, student, issued_on=issued_on, year=YEAR, entry_id=entry_id)


async def insert_list(
    running: RunningCertificates, area: Area, *, state: str = "under_review", issued: bool = False
) -> tuple[str, str]:
    """A list of one student at ``area.school`` waiting for the county (or issued): (list, student)."""
    student = await running.seed_student(lineage=area.lineage())
    async with running.ctx.sessionmaker() as session:
        listed = GraduationList(
            province=PROVINCE,
            city=area.city,
            county=area.county,
            school_code=area.school,
            school_name="测试学校",
            graduating_year=YEAR,
            state="issued" if issued else state,
            levels=["county"],
            level_index=1 if issued else 0,
            submitted_by="registrar",
        )
        session.add(listed)
        await session.flush()
        entry = GraduationEntry(
            list_id=listed.id,
            student_id=student.student_id,
            outcome="graduated",
            state="issued" if issued else "listed",
            graduated_on=today_in_china() if issued else None,
        )
        session.add(entry)
        await session.commit()
        list_id, entry_id = listed.id, entry.id
    if issued:
        certificate = await insert_certificate(running, area, entry_id=entry_id)
        async with running.ctx.sessionmaker() as session:
            row = await session.get(GraduationEntry, entry_id)
            assert row is not None
            row.certificate_id = certificate.id
            certificate_row = await session.get(Certificate, certificate.id)
            assert certificate_row is not None
            certificate_row.student_id = student.student_id
            await session.commit()
    return list_id, student.student_id


async def insert_request(running: RunningCertificates, area: Area) -> str:
    certificate = await insert_certificate(running, area)
    async with running.ctx.sessionmaker() as session:
        request = EducationCertificateRequest(
            certificate_id=certificate.id,
            student_id=certificate.student_id,
            province=PROVINCE,
            city=area.city,
            county=area.county,
            school_code=certificate.school_code,
            state="requested",
            statement="遗失",
            applied_by="student",
        )
        session.add(request)
        await session.commit()
        return request.id


async def insert_batch(running: RunningCertificates, area: Area) -> str:
    certificate = await insert_certificate(running, area)
    async with running.ctx.sessionmaker() as session:
        batch = PrintBatch(
            province=PROVINCE,
            scope_org=area.school,
            graduating_year=YEAR,
            purpose="issue",
            state="done",
            total=1,
            done=1,
            layout={"offset_x_mm": 0.0, "offset_y_mm": 0.0, "photo_mode": "id_photo", "draft": False},
            requested_by="registrar",
        )
        session.add(batch)
        await session.flush()
        session.add(PrintBatchItem(batch_id=batch.id, seq=0, certificate_id=certificate.id))
        await session.commit()
        return batch.id


# --- 1. authentication -----------------------------------------------------------------------------


async def test_every_route__known_to_the_walk(contract: RunningCertificates) -> None:
    # The lazy-include walk must find every operation the OpenAPI document lists, or the tests
    # below would pass over routes they never saw.
    walked = operations(api_routes(contract.app))
    documented = {
        (method.upper(), path)
        for path, item in contract.app.openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented <= walked
    assert {path for _, path in walked} >= PUBLIC_PATHS  # the exempt list names real routes


async def test_every_route__without_a_valid_token_401(contract: RunningCertificates) -> None:
    routes = protected(contract.app)
    assert len(routes) >= 25, routes
    principal = contract.principal(Role.PROVINCE, PROVINCE)
    forged = TokenIssuer(
        province=PROVINCE, keys={"41-jwt-test": Ed25519PrivateKey.generate()}, current="41-jwt-test"
    ).issue(principal)
    expired = contract.issuer.issue(principal, now=datetime.now(UTC) - timedelta(hours=1))
    other_issuer = TokenIssuer(province="37", keys=contract.issuer.keys, current=contract.issuer.current)
    bad_headers = {
        "none": {},
        "forged": {"Authorization": f"Bearer {forged}"},
        "expired": {"Authorization": f"Bearer {expired}"},
        "another province's issuer": {"Authorization": f"Bearer {other_issuer.issue(principal)}"},
        "not a JWT": {"Authorization": "Bearer not-a-token"},
        "basic": {"Authorization": "Basic dXNlcjpwYXNz"},
    }
    wrong: list[str] = []
    for method, path in routes:
        for label, headers in bad_headers.items():
            response = await contract.client.request(method, concrete(path), headers=headers)
            problem_json = response.headers.get("content-type", "").startswith(PROBLEM_JSON)
            if response.status_code != 401 or not problem_json:
                wrong.append(f"{method} {path} ({label}): {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)


# --- 2. no body gets a 5xx -------------------------------------------------------------------------


Prepared = tuple[str, dict[str, str], dict[str, Any]]  # path, headers, real values to plant


@dataclass(frozen=True)
class Sweep:
    """How one body route is called: a caller allowed on it and, where the route acts on a
    record, a fresh one per example (a valid body would otherwise use the record up, and what
    follows would only meet a 404 or 409 before any write)."""

    prepare: Callable[[RunningCertificates, Area], Awaitable[Prepared]]
    plant: bool = field(default=True)


async def _submit_list(r: RunningCertificates, a: Area) -> Prepared:
    return "/api/v1/graduation-lists", r.auth(Role.SCHOOL_REGISTRAR, a.school), {}


async def _decide_list(r: RunningCertificates, a: Area) -> Prepared:
    list_id, _ = await insert_list(r, a)
    return f"/api/v1/graduation-lists/{list_id}/decision", r.auth(Role.COUNTY, a.county), {}


async def _chain(r: RunningCertificates, a: Area) -> Prepared:
    return "/api/v1/graduation-chain", r.auth(Role.PROVINCE, PROVINCE), {}


async def _roll_back(r: RunningCertificates, a: Area) -> Prepared:
    _, student_id = await insert_list(r, a, issued=True)
    return f"/api/v1/graduations/{student_id}/rollback", r.auth(Role.COUNTY, a.county), {}


async def _print_batch(r: RunningCertificates, a: Area) -> Prepared:
    certificate = await insert_certificate(r, a)
    plant = {"scope": a.school, "graduating_year": YEAR, "certificate_ids": [certificate.id]}
    return "/api/v1/print-batches", r.auth(Role.SCHOOL_REGISTRAR, a.school), plant


async def _print_settings(r: RunningCertificates, a: Area) -> Prepared:
    return "/api/v1/print-settings", r.auth(Role.PROVINCE, PROVINCE), {}


async def _apply(r: RunningCertificates, a: Area) -> Prepared:
    certificate = await insert_certificate(r, a)
    headers = r.auth(Role.STUDENT, a.school, student_id=certificate.student_id)
    return "/api/v1/education-certificate-requests", headers, {"certificate_id": certificate.id}


async def _decide_request(r: RunningCertificates, a: Area) -> Prepared:
    request_id = await insert_request(r, a)
    path = f"/api/v1/education-certificate-requests/{request_id}/decision"
    return path, r.auth(Role.SCHOOL_REGISTRAR, a.school), {}


async def _new_code(r: RunningCertificates, a: Area) -> Prepared:
    certificate = await insert_certificate(r, a)
    headers = r.auth(Role.STUDENT, a.school, student_id=certificate.student_id)
    return "/api/v1/my/verification-codes", headers, {"certificate_id": certificate.id}


def _anonymous(path: str) -> Callable[[RunningCertificates, Area], Awaitable[Prepared]]:
    async def prepare(r: RunningCertificates, a: Area) -> Prepared:
        return path, {}, {}

    return prepare


SWEEP: dict[tuple[str, str], Sweep] = {
    ("POST", "/api/v1/graduation-lists"): Sweep(_submit_list),
    ("POST", "/api/v1/graduation-lists/{list_id}/decision"): Sweep(_decide_list),
    ("PUT", "/api/v1/graduation-chain"): Sweep(_chain),
    ("POST", "/api/v1/graduations/{student_id}/rollback"): Sweep(_roll_back),
    ("POST", "/api/v1/print-batches"): Sweep(_print_batch),
    ("PUT", "/api/v1/print-settings"): Sweep(_print_settings),
    ("POST", "/api/v1/education-certificate-requests"): Sweep(_apply),
    ("POST", "/api/v1/education-certificate-requests/{request_id}/decision"): Sweep(_decide_request),
    ("POST", "/api/v1/my/verification-codes"): Sweep(_new_code),
    ("POST", "/api/v1/public/verifications"): Sweep(_anonymous("/api/v1/public/verifications")),
    ("POST", "/api/v1/public/qr-verifications"): Sweep(_anonymous("/api/v1/public/qr-verifications")),
}


def json_body_operations(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    """(method, path) → the JSON schema of its body, for every route taking a JSON body."""
    document = app.openapi()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                found[(method.upper(), path)] = content["application/json"]["schema"]
    return found


NASTY_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**70),
    1.5,
    math.nan,
    math.inf,
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 10_000,
    "２０２７",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    [],
    {},
    [None],
    {"a": [{"b": None}]},
    [[[[[]]]]],
]

NON_JSON: list[bytes] = [b"", b"{", b"not json", b"\xff\xfe\x00", b'{"a": 1}{"b": 2}', b"\x00", b"[" * 5000]


def from_schema(node: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values a JSON schema (as pydantic writes them) allows; enough of the keywords for our
    bodies, anything else becomes any JSON value."""
    if "$ref" in node:
        return st.deferred(lambda: from_schema(defs[node["$ref"].rsplit("/", 1)[-1]], defs))
    if "const" in node:
        return st.just(node["const"])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "anyOf" in node:
        return st.one_of([from_schema(option, defs) for option in node["anyOf"]])
    kind = node.get("type")
    if kind == "string":
        if "pattern" in node:
            return st.from_regex(node["pattern"], fullmatch=True)
        low = node.get("minLength", 0)
        return st.text(min_size=low, max_size=max(low, min(node.get("maxLength", 40), 40)))
    if kind == "integer":
        return st.integers(node.get("minimum"), node.get("maximum"))
    if kind == "number":
        return st.floats(node.get("minimum"), node.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        low = node.get("minItems", 0)
        items = from_schema(node.get("items", {}), defs)
        return st.lists(items, min_size=low, max_size=max(low, min(node.get("maxItems", 3), 3)))
    if kind == "object" and "properties" in node:
        required = set(node.get("required", ()))
        properties = {name: from_schema(sub, defs) for name, sub in node["properties"].items()}
        return st.fixed_dictionaries(
            {n: s for n, s in properties.items() if n in required},
            optional={n: s for n, s in properties.items() if n not in required},
        )
    return ANY_JSON


ANY_JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def mutated(body: Any, data: st.DataObject) -> Any:
    """The body with one value somewhere in it swapped for a nasty one, or a field it does not
    know added."""
    if isinstance(body, dict) and body:
        key = data.draw(st.sampled_from([*sorted(body), "surplus_field"]))
        inner = body.get(key)
        if isinstance(inner, (dict, list)) and inner and data.draw(st.booleans()):
            return {**body, key: mutated(inner, data)}
        return {**body, key: data.draw(st.sampled_from(NASTY_VALUES))}
    if isinstance(body, list) and body:
        at = data.draw(st.integers(0, len(body) - 1))
        return [*body[:at], mutated(body[at], data), *body[at + 1 :]]
    return data.draw(st.sampled_from(NASTY_VALUES))


def encoded(body: Any) -> bytes:
    # ASCII-escaped, so a lone surrogate goes over the wire as the JSON escape a client could send.
    return json.dumps(body).encode()


TABLES = (
    GraduationList,
    GraduationEntry,
    GraduationReview,
    GraduationChainConfig,
    Certificate,
    PrintBatch,
    PrintBatchItem,
    EducationCertificateRequest,
    VerificationCode,
    AuditEntry,
    OutboxMessage,
)


async def row_counts(running: RunningCertificates) -> dict[str, int]:
    async with running.ctx.sessionmaker() as session:
        return {
            table.__tablename__: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in TABLES
        }


async def test_body_sweep__every_json_body_route_is_swept(contract: RunningCertificates) -> None:
    assert set(json_body_operations(contract.app)) == set(SWEEP)


@pytest.mark.parametrize("operation", sorted(SWEEP), ids=lambda op: f"{op[0]} {op[1]}")
@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_body_sweep__no_5xx_and_problems_name_the_field(
    contract: RunningCertificates, place: Area, operation: tuple[str, str], data: st.DataObject
) -> None:
    method, template = operation
    document = contract.app.openapi()
    schema = json_body_operations(contract.app)[operation]
    valid = from_schema(schema, document.get("components", {}).get("schemas", {}))
    path, headers, plant = await SWEEP[operation].prepare(contract, place)
    shape = data.draw(st.sampled_from(["valid", "mutated", "garbage", "non_json"]), label="shape")
    if shape == "non_json":
        content = data.draw(st.sampled_from(NON_JSON) | st.binary(max_size=40), label="bytes")
    else:
        body = data.draw(valid, label="valid body")
        if isinstance(body, dict) and plant and data.draw(st.booleans(), label="plant real ids"):
            body = {**body, **plant}
        if shape == "mutated":
            body = mutated(body, data)
        elif shape == "garbage":
            body = data.draw(st.sampled_from(NASTY_VALUES) | ANY_JSON, label="garbage")
        content = encoded(body)
    before = await row_counts(contract)
    response = await contract.client.request(
        method, path, content=content, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code < 500, (template, content[:300], response.text[:500])
    if response.status_code >= 400:
        problem = assert_problem(response)
        if response.status_code == 422:
            assert problem.get("errors"), problem
            assert all(e["field"] and e["reason"] and e["reason_zh"] for e in problem["errors"]), problem
        assert await row_counts(contract) == before, (template, content[:300], response.text[:300])


# A body each route accepts (once its planted ids are in), for the field-by-field sweep below.
VALID_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/graduation-lists"): {
        "graduating_year": YEAR,
        "entries": [{"student_id": PATH_VALUES["student_id"], "outcome": "graduated"}],
    },
    ("POST", "/api/v1/graduation-lists/{list_id}/decision"): {"decision": "return", "opinion": "请核对"},
    ("PUT", "/api/v1/graduation-chain"): {"levels": ["county"]},
    ("POST", "/api/v1/graduations/{student_id}/rollback"): {"reason": "误报毕业"},
    ("POST", "/api/v1/print-batches"): {"purpose": "reprint", "reason": "卡纸"},
    ("PUT", "/api/v1/print-settings"): {"offset_x_mm": 0.5, "offset_y_mm": -0.5, "photo_mode": "id_photo"},
    ("POST", "/api/v1/education-certificate-requests"): {"statement": "搬家时遗失"},
    ("POST", "/api/v1/education-certificate-requests/{request_id}/decision"): {
        "decision": "reject",
        "opinion": "材料不全",
    },
    ("POST", "/api/v1/my/verification-codes"): {"valid_days": 7},
    ("POST", "/api/v1/public/verifications"): {"number": "2027 410102 4141010001 1 00001 00", "name": "王"},
    ("POST", "/api/v1/public/qr-verifications"): {"payload": "HTTPS://VERIFY.XUEJI.EXAMPLE/C/6BFOXN2"},
}


# A graduation list is only accepted for a ready graduand of the current graduating year (a date
# these tests do not pin); its base body meets the domain's refusal, after every field passed.
BASE_BODY_REFUSED = {("POST", "/api/v1/graduation-lists")}


@pytest.mark.parametrize("operation", sorted(SWEEP), ids=lambda op: f"{op[0]} {op[1]}")
async def test_body_sweep__each_field_with_each_nasty_value(
    contract: RunningCertificates, place: Area, operation: tuple[str, str]
) -> None:
    # Hypothesis samples; this walks every (field, nasty value) pair of a body that works, so a
    # NUL in one free-text field cannot hide behind the sample's luck.
    method, _ = operation
    path, headers, plant = await SWEEP[operation].prepare(contract, place)
    body = {**VALID_BODIES[operation], **plant}
    first = await contract.client.request(method, path, json=body, headers=headers)
    if operation in BASE_BODY_REFUSED:
        assert_problem(first, 422)
    else:
        assert first.status_code < 300, (operation, first.text[:300])  # the base body is valid
    wrong: list[str] = []
    for key, nasty in itertools.product([*body, "surplus_field"], NASTY_VALUES):
        path, headers, plant = await SWEEP[operation].prepare(contract, place)
        before = await row_counts(contract)
        content = encoded({**VALID_BODIES[operation], **plant, key: nasty})
        response = await contract.client.request(
            method, path, content=content, headers={**headers, "Content-Type": "application/json"}
        )
        problem = response.headers["content-type"].startswith(PROBLEM_JSON)
        if response.status_code >= 500 or (response.status_code >= 400 and not problem):
            wrong.append(f"{key}={str(nasty)[:20]!r}: {response.status_code} {response.text[:150]}")
        elif response.status_code >= 400 and await row_counts(contract) != before:
            wrong.append(f"{key}={str(nasty)[:20]!r}: {response.status_code} but rows were written")
    assert not wrong, "\n".join(wrong)


# --- 3. another school's records answer 404 --------------------------------------------------------


async def test_jurisdiction__another_school_gets_404_for_each_record(
    contract: RunningCertificates, place: Area
) -> None:
    list_id, _ = await insert_list(contract, place)
    certificate = await insert_certificate(contract, place)
    batch_id = await insert_batch(contract, place)
    request_id = await insert_request(contract, place)
    own = contract.auth(Role.SCHOOL_REGISTRAR, place.school)
    for path in (
        f"/api/v1/graduation-lists/{list_id}",
        f"/api/v1/certificates/{certificate.id}",
        f"/api/v1/print-batches/{batch_id}",
    ):
        assert (await contract.client.get(path, headers=own)).status_code == 200, path

    other_county = "419902"
    strangers = {
        "registrar of another school": contract.auth(Role.SCHOOL_REGISTRAR, place.other_school),
        "leader of another school": contract.auth(Role.SCHOOL_LEADER, place.other_school),
        "another county": contract.auth(Role.COUNTY, other_county),
        "another school's student": contract.auth(
            Role.STUDENT, place.other_school, student_id=str(uuid.uuid4())
        ),
    }
    reads = (
        f"/api/v1/graduation-lists/{list_id}",
        f"/api/v1/certificates/{certificate.id}",
        f"/api/v1/certificates/{certificate.id}/electronic.pdf",
        f"/api/v1/print-batches/{batch_id}",
        f"/api/v1/print-batches/{batch_id}/printer.pdf",
        f"/api/v1/print-batches/{batch_id}/files/{certificate.number}.pdf",
    )
    writes = (
        (f"/api/v1/graduation-lists/{list_id}/decision", {"decision": "approve", "opinion": ""}),
        (
            f"/api/v1/education-certificate-requests/{request_id}/decision",
            {"decision": "reject", "opinion": "否"},
        ),
    )
    for who, headers in strangers.items():
        for path in reads:
            response = await contract.client.get(path, headers=headers)
            if response.status_code == 403:
                continue  # the role may not read this kind of record at all: nothing is shown
            assert_problem(response, 404)
            assert certificate.name not in response.text, (who, path)
        for path, body in writes:
            response = await contract.client.post(path, json=body, headers=headers)
            if response.status_code == 403:
                continue
            assert_problem(response, 404)
        listed = await contract.client.get("/api/v1/education-certificate-requests", headers=headers)
        if listed.status_code == 200:
            assert request_id not in listed.text, who
        for path in ("/api/v1/graduation-lists", "/api/v1/certificates", "/api/v1/print-batches"):
            response = await contract.client.get(path, headers=headers)
            if response.status_code == 200:
                assert list_id not in response.text and certificate.id not in response.text, (who, path)
                assert batch_id not in response.text, (who, path)

    # Nothing the strangers did changed the records.
    async with contract.ctx.sessionmaker() as session:
        listed_row = await session.get(GraduationList, list_id)
        request_row = await session.get(EducationCertificateRequest, request_id)
    assert listed_row is not None and listed_row.state == "under_review"
    assert request_row is not None and request_row.state == "requested"
