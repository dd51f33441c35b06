"""One enrollment service process for a benchmark (bench/harness.py does the generic part): a
fresh database and virtual host, the province's seed, a registrar's token, the dedupe key."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import REPO, base_env, jwks_stand_in, running_process, wait_ready
from shared.auth import Principal, Role
from shared.signing import generate_private_key_file
from shared.testing import free_port, temporary_database, temporary_vhost

SCHOOL = "4141010001"


@dataclass(frozen=True)
class RunningService:
    base: str  # http://127.0.0.1:<port>
    token: str  # a school registrar of SCHOOL
    dsn: str  # the service's database, for asyncpg
    key: bytes  # the dedupe HMAC key the service uses
    pid: int
    work: Path  # log, traces, keys


@contextmanager
def running_service(*, batch_rows: int = 500, pg_socket: str | None = None) -> Iterator[RunningService]:
    """``pg_socket``: the service reaches PostgreSQL over its Unix socket in that folder instead
    of TCP on 127.0.0.1 (each loopback TCP round trip costs CPU in the kernel as well)."""
    work = Path(tempfile.mkdtemp(prefix="xueji-bench-"))
    generate_private_key_file(work / "signing.pem")
    (work / "trust.json").write_text("{}")
    key = secrets.token_hex(32).encode()
    (work / "dedupe.key").write_bytes(key)
    port = free_port()
    with jwks_stand_in("41") as jwks, temporary_database() as database_url, temporary_vhost() as amqp_url:
        service_url = (
            database_url
            if pg_socket is None
            else f"postgresql+asyncpg://postgres@/{database_url.rsplit('/', 1)[1]}?host={pg_socket}"
        )
        env = base_env(
            service_url,
            amqp_url,
            jwks.url,
            work,
            http_port=port,
            partners='["37"]',
            signing_key_file=work / "signing.pem",
            trust_file=work / "trust.json",
            seed_file=REPO / "deploy" / "seed" / "41.json",
            dedupe_hmac_key_file=work / "dedupe.key",
            import_batch_rows=batch_rows,
        )
        log = work / "enrollment.log"
        with running_process("services.enrollment", env, log) as process:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base, process, log)
            registrar = Principal(
                account_id="bench", username="bench", role=Role.SCHOOL_REGISTRAR, org=SCHOOL, province="41"
            )
            dsn = database_url.replace("postgresql+asyncpg", "postgresql")
            yield RunningService(base, jwks.issuer.issue(registrar), dsn, key, process.pid, work)
