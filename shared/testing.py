"""Helpers for tests against the real servers: uniquely named virtual hosts and databases that
are removed afterwards, and free ports. Never stand-ins for the servers themselves."""

from __future__ import annotations

import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from shared.db import create_database_if_missing, drop_database

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
