from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from deploy.local.layout import Deployment
from deploy.local.scenario import Scenario
from deploy.local.three_provinces import three_provinces


@dataclass
class RunningProvinces:
    deployment: Deployment
    accounts: list[dict[str, str]]
    report: dict[str, Any]
    scenario: Scenario


@pytest.fixture(scope="package")
def provinces() -> Iterator[RunningProvinces]:
    """Three provinces' fifteen processes, in their own vhosts and databases, with the walking
    skeleton already run once; everything is removed afterwards. Three, so every partner link is
    one of several (DESIGN.md "Across provinces"): the walking skeleton runs between 41 and 37
    while 44 is a partner of both."""
    with three_provinces("t") as (deployment, accounts):
        scenario = Scenario(deployment, accounts, log=lambda line: None)
        yield RunningProvinces(deployment, accounts, scenario.run(), scenario)
