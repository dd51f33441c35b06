"""Fixtures for the partner-province tests: deployments with their own virtual hosts, keys and
registries under a temporary directory, and receivers with their own databases; all removed
afterwards, shovels first (a running shovel would re-create a deleted source queue)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from deploy.local.layout import Deployment
from deploy.local.provision import deprovision, ensure_keys, ensure_vhosts
from shared.testing import temporary_database
from tests.integration.provinces import Receiver, create_tables, partner_deployment

MakeDeployment = Callable[[tuple[str, ...]], Deployment]


@pytest.fixture
def make_deployment(tmp_path: Path) -> Iterator[MakeDeployment]:
    """Provision (keys, registries, vhosts) a deployment of the given provinces; calling it
    again with more provinces adds them to the same deployment, as an operator would."""
    name = f"p{uuid.uuid4().hex[:8]}"
    made: list[Deployment] = []

    def make(provinces: tuple[str, ...]) -> Deployment:
        deployment = partner_deployment(name, provinces, tmp_path)
        ensure_keys(deployment)
        ensure_vhosts(deployment)
        made.append(deployment)
        return deployment

    try:
        yield make
    finally:
        if made:
            deprovision(max(made, key=lambda d: len(d.provinces)), drop_databases=False)


@pytest.fixture
async def make_receiver() -> AsyncIterator[Callable[[Deployment, str], Receiver]]:
    """A receiving province with its own database (not started: the test starts it)."""
    receivers: list[Receiver] = []
    with ExitStack() as databases:

        def make(deployment: Deployment, province: str) -> Receiver:
            db_url = databases.enter_context(temporary_database())
            create_tables(db_url)
            receiver = Receiver(deployment, province, db_url)
            receivers.append(receiver)
            return receiver

        try:
            yield make
        finally:
            for receiver in receivers:
                await receiver.close()
