"""What every service benchmark needs: a service process started from its module on a fresh
database and virtual host, a stand-in JWKS endpoint (services only fetch identity's public
keys), tokens for any principal, and the process stopped after."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.auth import TokenIssuer
from shared.testing import free_port

REPO = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def p50_p99(values: list[float]) -> str:
    if not values:
        return "p50      -      p99      -"
    return f"p50 {percentile(values, 0.5) * 1000:7.1f} ms   p99 {percentile(values, 0.99) * 1000:7.1f} ms"


@dataclass
class Jwks:
    """A token issuer and the little HTTP server that publishes its public keys."""

    issuer: TokenIssuer
    url: str
    server: ThreadingHTTPServer


@contextmanager
def jwks_stand_in(province: str = "41") -> Iterator[Jwks]:
    # Long-lived tokens: a benchmark at province scale outlasts the usual 15 minutes.
    issuer = TokenIssuer(
        province=province,
        keys={"bench": Ed25519PrivateKey.generate()},
        current="bench",
        lifetime=timedelta(hours=3),
    )
    body = json.dumps(issuer.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Jwks(issuer, f"http://127.0.0.1:{port}", server)
    finally:
        server.shutdown()


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process (all its threads) has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path, path: str = "/readyz") -> None:
    for _ in range(900):
        if process.poll() is not None:
            raise RuntimeError(f"the process exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):  # not listening yet; keep polling
            if httpx.get(f"{base}{path}").status_code == 200:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{base} did not become ready")


@contextmanager
def running_process(module: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m module`` with ``env`` added to ours, output to ``log``; stopped on exit."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module], env=full_env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def base_env(database_url: str, amqp_url: str, identity_url: str, work: Path, **extra: Any) -> dict[str, str]:
    """The settings a province's service needs for a benchmark (docs/configuration.md)."""
    return {
        "XUEJI_PROVINCE": "41",
        "XUEJI_DATABASE_URL": database_url,
        "XUEJI_AMQP_URL": amqp_url,
        "XUEJI_REDIS_PREFIX": f"xueji:bench:{work.name}:",
        "XUEJI_IDENTITY_URL": identity_url,
        "XUEJI_TRACE_DIR": str(work / "traces"),
        **{f"XUEJI_{key.upper()}": str(value) for key, value in extra.items()},
    }
