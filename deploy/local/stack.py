"""Start and stop a local deployment: every province's five service processes on this machine.

python -m deploy.local.stack up      # provision, start what is not running, wait until ready
python -m deploy.local.stack down    # stop what ``up`` started
python -m deploy.local.stack status
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from deploy.local.console_tls import ensure_console_certificate
from deploy.local.layout import (
    CONSOLE,
    HTTP_PROCESSES,
    SERVICES,
    Deployment,
    demo_console_tls_ports,
    demo_ports,
)
from deploy.local.provision import ensure_shovels, provision

READY_TIMEOUT_SECONDS = 120


def _pid_file(deployment: Deployment, province: str, service: str) -> Path:
    return deployment.home / "run" / f"{service}-{province}.pid"


# The processes this one started, by pid: held so their exit status can be read (and no other
# part of this process reaps them unseen).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ending(pid: int) -> str:
    child = _CHILDREN.get(pid)
    if child is None or child.returncode is None:
        return "ended (not started by this process)"
    if child.returncode < 0:
        return f"killed by {signal.Signals(-child.returncode).name}"
    return f"exited with status {child.returncode}"


def why_stopped(deployment: Deployment, province: str, service: str, log_chars: int = 4000) -> str:
    """How the process last started for ``service`` ended, as far as this process saw it, and
    the end of its log (a test's deployment and its logs are removed when the test ends)."""
    path = _pid_file(deployment, province, service)
    if not path.exists():
        ending = "no pid file (stopped, or never started)"
    else:
        pid = int(path.read_text())
        ending = f"pid {pid} " + ("is running" if _alive(pid) else _ending(pid))
    log = deployment.home / "log" / f"{service}-{province}.log"
    tail = log.read_text(errors="replace")[-log_chars:] if log.exists() else "(no log)"
    return f"{ending}; its log ends:\n{tail}"


def running_pid(deployment: Deployment, province: str, service: str) -> int | None:
    path = _pid_file(deployment, province, service)
    if not path.exists():
        return None
    pid = int(path.read_text())
    return pid if _alive(pid) else None


# Processes without an HTTP port, started once their service has migrated its database:
# name -> (the service whose settings they share, module). More of them scale a consumer group.
WORKERS: dict[str, tuple[str, str]] = {"face-worker": ("identity", "services.identity.face_worker")}


def start_process(
    deployment: Deployment,
    province: str,
    service: str,
    extra_env: dict[str, str] | None = None,
    *,
    module: str | None = None,
    settings_of: str | None = None,
) -> int:
    """Start ``python -m services.<service>`` (or ``module`` under the name ``service``)."""
    log_dir = deployment.home / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    _pid_file(deployment, province, service).parent.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        # A native crash (SIGSEGV, SIGABRT) prints every thread's Python stack to the log.
        "PYTHONFAULTHANDLER": "1",
        **deployment.environment(province, settings_of or service),
        **(extra_env or {}),
    }
    if settings_of is not None:
        env["XUEJI_SERVICE"] = settings_of
    with (log_dir / f"{service}-{province}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module or f"services.{service}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives `make demo`; `make down` stops it
        )
    _CHILDREN[process.pid] = process
    _pid_file(deployment, province, service).write_text(str(process.pid))
    return process.pid


def wait_ready(
    deployment: Deployment, timeout: float = READY_TIMEOUT_SECONDS, processes: tuple[str, ...] = SERVICES
) -> None:
    deadline = time.monotonic() + timeout
    pending = {(p, s) for p in deployment.provinces for s in processes if s in deployment.ports.get(p, {})}
    while pending:
        for province, service in sorted(pending):
            if running_pid(deployment, province, service) is None:
                raise RuntimeError(
                    f"{service}-{province} exited during start: {why_stopped(deployment, province, service)}"
                )
            # Not listening yet: the deadline below decides when to give up.
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.get(f"{deployment.base_url(province, service)}/readyz", timeout=2)
                if response.status_code == 200:
                    pending.discard((province, service))
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"not ready after {timeout:.0f} s: {sorted(pending)}")
        if pending:
            time.sleep(0.5)


def up(deployment: Deployment) -> list[dict[str, str]]:
    accounts = provision(deployment)
    for province in deployment.provinces:
        for service in SERVICES:
            if running_pid(deployment, province, service) is None:
                start_process(deployment, province, service)
    wait_ready(deployment)
    for province in deployment.provinces:
        for worker, (service, module) in WORKERS.items():
            if running_pid(deployment, province, worker) is None:
                start_process(deployment, province, worker, module=module, settings_of=service)
    if deployment.console_tls_ports:
        ensure_console_certificate(deployment.console_tls_dir)
    for province in deployment.provinces:
        if CONSOLE in deployment.ports[province] and running_pid(deployment, province, CONSOLE) is None:
            start_process(deployment, province, CONSOLE)
    wait_ready(deployment, processes=tuple(p for p in HTTP_PROCESSES if p not in SERVICES))
    (deployment.home / "endpoints.json").write_text(json.dumps(deployment.endpoints(), indent=1))
    return accounts


def stop_process(deployment: Deployment, province: str, service: str, *, sig: int = signal.SIGTERM) -> None:
    pid = running_pid(deployment, province, service)
    if pid is not None:
        os.killpg(pid, sig)
        deadline = time.monotonic() + 15
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
    _pid_file(deployment, province, service).unlink(missing_ok=True)


def down(deployment: Deployment) -> None:
    for province in deployment.provinces:
        for name in (CONSOLE, *WORKERS, *SERVICES):
            stop_process(deployment, province, name)


def status(deployment: Deployment) -> dict[str, dict[str, str]]:
    return {
        p: {
            s: ("running" if running_pid(deployment, p, s) else "stopped")
            for s in (*HTTP_PROCESSES, *WORKERS)
        }
        for p in deployment.provinces
    }


def demo_deployment() -> Deployment:
    return Deployment(name="demo", ports=demo_ports(), console_tls_ports=demo_console_tls_ports())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["up", "down", "status", "heal"])
    args = parser.parse_args()
    deployment = demo_deployment()
    if args.command == "up":
        up(deployment)
        print(json.dumps(status(deployment)))
    elif args.command == "down":
        down(deployment)
        print("stopped")
    elif args.command == "heal":
        print(json.dumps(ensure_shovels(deployment), indent=1))
    else:
        print(json.dumps(status(deployment), indent=1))


if __name__ == "__main__":
    main()
