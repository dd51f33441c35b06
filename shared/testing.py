"""Helpers for tests against the real servers: uniquely named virtual hosts and databases that
are removed afterwards, and free ports. Never stand-ins for the servers themselves."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from shared.auth import Principal, Role
from shared.db import create_database_if_missing, drop_database

T = TypeVar("T")

PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
AMQP_SERVER = "amqp://guest:guest@127.0.0.1:5672"


def unique_name(prefix: str = "xjt") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def rabbitmqctl(*args: str) -> str:
    done = subprocess.run(
        ["rabbitmqctl", "-q", *args], check=True, capture_output=True, text=True, timeout=60
    )
    return done.stdout


@contextmanager
def temporary_vhost(name: str | None = None) -> Iterator[str]:
    """A fresh virtual host for guest; yields its AMQP URL and deletes it (queues and all) after."""
    vhost = name or unique_name()
    rabbitmqctl("add_vhost", vhost)
    rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"{AMQP_SERVER}/{vhost}"
    finally:
        rabbitmqctl("delete_vhost", vhost)


@contextmanager
def temporary_database(name: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database; yields its asyncpg URL and drops it after."""
    url = f"{PG_SERVER}/{name or unique_name()}"
    create_database_if_missing(url)
    try:
        yield url
    finally:
        drop_database(url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def eventually(probe: Callable[[], Awaitable[T | None]], *, within: float = 20.0) -> T:
    """The probe's first truthy answer; the bus is asynchronous."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s; last answer {result!r}")
        await asyncio.sleep(0.05)


def make_principal(
    role: Role, org: str, province: str, *, student_id: str | None = None, account_id: str | None = None
) -> Principal:
    """A signed-in user of ``role`` at ``org``; a fresh account unless the test names one."""
    return Principal(
        account_id=account_id or unique_name("acct"),
        username=f"{province}-{role.value}",
        role=role,
        org=org,
        province=province,
        student_id=student_id,
    )
