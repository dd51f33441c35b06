from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from deploy.local.layout import SERVICES, Deployment
from deploy.local.provision import deprovision
from deploy.local.scenario import Scenario
from deploy.local.stack import down, up
from shared.testing import free_port

# Three provinces, so every partner link is one of several (DESIGN.md "Across provinces"): the
# walking skeleton runs between 41 and 37 while 44 is a partner of both.
PROVINCES = ("41", "37", "44")


@dataclass
class RunningProvinces:
    deployment: Deployment
    accounts: list[dict[str, str]]
    report: dict[str, Any]
    scenario: Scenario


@pytest.fixture(scope="package")
def provinces() -> Iterator[RunningProvinces]:
    """Three provinces' fifteen processes, in their own vhosts and databases, with the walking
    skeleton already run once; everything is removed afterwards."""
    deployment = Deployment(
        name=f"t{uuid.uuid4().hex[:8]}",
        root=Path("var/test"),
        provinces=PROVINCES,
        ports={p: {s: free_port() for s in SERVICES} for p in PROVINCES},
    )
    try:
        accounts = up(deployment)
        scenario = Scenario(deployment, accounts, log=lambda line: None)
        report = scenario.run()
        yield RunningProvinces(deployment, accounts, report, scenario)
    finally:
        down(deployment)
        deprovision(deployment, drop_databases=True)
