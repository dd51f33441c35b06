"""The body of every service's Alembic ``env.py``: migrations run online over psycopg."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool


def run_migrations() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # The advisory lock makes two processes of one service starting together take turns.
        connection.exec_driver_sql("SELECT pg_advisory_lock(7042013)")
        connection.commit()  # the lock is session-level; Alembic must own the next transaction
        try:
            context.configure(connection=connection, target_metadata=None)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.exec_driver_sql("SELECT pg_advisory_unlock(7042013)")
            connection.commit()
