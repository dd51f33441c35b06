"""Contract tests of issue 7 point 5: every inter-province message the services wrote while the
walking skeleton ran matches the published protocol (docs/asyncapi/interprovince.yaml)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from deploy.local.layout import SERVICES
from shared.bus.tables import OutboxMessage
from shared.bus.topology import INTERPROVINCE_OUT
from shared.contracts import assert_matches_protocol
from shared.signing import TO_PROVINCE_HEADER
from tests.e2e.conftest import RunningProvinces

pytestmark = pytest.mark.e2e

# What one run of the walking skeleton cannot complete without sending across a border.
SCENARIO_SENDS = {
    "transfer.case.opened",
    "transfer.case.checked",
    "transfer.case.step",
    "enrollment.record.released",
}


@dataclass(frozen=True)
class Sent:
    province: str
    service: str
    event_type: str
    routing_key: str
    body: dict[str, Any]
    headers: dict[str, Any]


def _interprovince_outbox(provinces: RunningProvinces) -> list[Sent]:
    """Every row any service of any province wrote for a partner (``emit(..., to_province=...)``)."""
    deployment = provinces.deployment
    sent: list[Sent] = []
    for province in deployment.provinces:
        for service in SERVICES:
            engine = create_engine(deployment.database_url(province, service).replace("+asyncpg", "+psycopg"))
            try:
                with engine.connect() as connection:
                    rows = connection.execute(
                        select(
                            OutboxMessage.event_type,
                            OutboxMessage.routing_key,
                            OutboxMessage.body,
                            OutboxMessage.headers,
                        ).where(OutboxMessage.exchange == INTERPROVINCE_OUT)
                    ).all()
            finally:
                engine.dispose()
            sent += [
                Sent(province, service, row.event_type, row.routing_key, json.loads(row.body), row.headers)
                for row in rows
            ]
    return sent


def test_interprovince_emissions__match_the_published_protocol(provinces: RunningProvinces) -> None:
    sent = _interprovince_outbox(provinces)
    missing = SCENARIO_SENDS - {s.event_type for s in sent}
    assert not missing, f"the scenario ran but nothing sent {sorted(missing)} across provinces"

    failures: list[str] = []
    for message in sent:
        where = f"{message.province}/{message.service} → {message.headers.get(TO_PROVINCE_HEADER)}"
        try:
            assert_matches_protocol(message.body, headers=message.headers, routing_key=message.routing_key)
            assert message.body["province"] == message.province, "envelope names another province"
            assert message.headers[TO_PROVINCE_HEADER] in provinces.deployment.partners(message.province), (
                "addressed to a province that is not a partner"
            )
        except AssertionError as exc:
            failures.append(f"{where}: {exc}")
    assert not failures, f"{len(failures)} of {len(sent)} inter-province messages:\n" + "\n".join(failures)
