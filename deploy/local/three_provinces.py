"""A deployment of three provinces under a unique name, removed afterwards (processes, virtual
hosts, shovels, databases, files), for the transfer bench and the transfer chaos test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.local.layout import HTTP_PROCESSES, Deployment
from deploy.local.provision import deprovision
from deploy.local.stack import down, up
from shared.testing import free_port

PROVINCES = ("41", "37", "44")


@contextmanager
def three_provinces(
    prefix: str, root: Path = Path("var/test")
) -> Iterator[tuple[Deployment, list[dict[str, str]]]]:
    deployment = Deployment(
        name=f"{prefix}{uuid.uuid4().hex[:8]}",
        root=root,
        provinces=PROVINCES,
        ports={p: {s: free_port() for s in HTTP_PROCESSES} for p in PROVINCES},
    )
    try:
        yield deployment, up(deployment)
    finally:
        down(deployment)
        deprovision(deployment, drop_databases=True)
