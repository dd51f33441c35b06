"""Database plumbing shared by every service: engine, sessions, database creation, Alembic."""

from __future__ import annotations

from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def make_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _admin_conninfo(url: str) -> tuple[str, str]:
    """(conninfo of the server's maintenance database, name of the target database)."""
    parsed = make_url(url)
    if not parsed.database:
        raise ValueError(f"database URL has no database name: {parsed!r}")
    admin = parsed.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), parsed.database


def create_database_if_missing(url: str) -> None:
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    conninfo, name = _admin_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def upgrade_to_head(sync_url: str, migrations_dir: Path) -> None:
    """Apply a service's Alembic migrations (run at start, before the service takes traffic)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", sync_url.replace("%", "%%"))
    # "heads": a service may carry independent migration branches (areas built side by side);
    # each is applied, in dependency order.
    command.upgrade(cfg, "heads")
