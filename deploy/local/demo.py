"""``make demo``: bring both provinces up, run the walking skeleton and every kind of transfer,
say where to look (each case readable with any account of its provinces: accounts.json)."""

from __future__ import annotations

import json
import sys
from typing import Any

from deploy.local.checkin_step import DEMO_PASSWORD
from deploy.local.console_tls import machine_names
from deploy.local.layout import SERVICES, Deployment
from deploy.local.partners import province_name
from deploy.local.scenario import Scenario, ScenarioFailed
from deploy.local.stack import demo_deployment, up


def transfer_lines(deployment: Deployment, report: dict[str, Any]) -> str:
    """Each transfer case: its final state in every province of it, and where to read it."""
    lines = []
    for name, case in report["transfers"].items():
        states = ", ".join(f"{p} {state}" for p, state in case["states"].items())
        lines.append(f"  Transfer ({name}) {case['id']}: {states}")
        for province in case["states"]:
            url = f"{deployment.base_url(province, 'transfer')}/api/v1/transfers/{case['id']}"
            lines.append(f"      GET {url}")
    return "\n".join(lines)


def console_lines(deployment: Deployment, accounts: list[dict[str, str]]) -> str:
    """Where people sign in, with which demo accounts, and the address a phone uses."""
    names, addresses = machine_names()
    lan = next((str(a) for a in addresses if not a.is_loopback and a.version == 4), names[0])
    lines = []
    for province in deployment.provinces:
        line = f"  Console {province} ({province_name(province)}): {deployment.console_url(province)}/"
        tls_port = deployment.console_tls_ports.get(province)
        if tls_port is not None:
            line += f"   phones: https://{lan}:{tls_port}/m/"
        lines.append(line)
    if deployment.console_tls_ports:
        ca = deployment.console_tls_dir / "local-ca.pem"
        lines.append(f"      (a phone trusts the HTTPS certificate after installing {ca})")
    lines.append("  Demo accounts (username / password):")
    for account in accounts:
        if account["province"] == deployment.provinces[0]:
            lines.append(f"      {account['username']:<28} {account['password']:<22} {account['role']}")
    lines.append(f"      … and {deployment.provinces[1]}'s in {deployment.home / 'accounts.json'}")
    lines.append(
        f"      a student on the phone page: the one step 5 activated above, password {DEMO_PASSWORD}"
    )
    return "\n".join(lines)


def main() -> int:
    deployment = demo_deployment()
    listed = ", ".join(f"{p} ({province_name(p)})" for p in deployment.provinces)
    count = len(deployment.provinces) * len(SERVICES)
    print(f"Starting provinces {listed}: {count} service processes …", flush=True)
    accounts = up(deployment)
    try:
        report = Scenario(deployment, accounts, log=lambda line: print(line, flush=True)).run()
    except ScenarioFailed as exc:
        print(f"\nThe scenario failed: {exc}\nLogs: {deployment.home / 'log'}", file=sys.stderr)
        return 1
    (deployment.home / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    endpoints = deployment.endpoints()
    graduation = report["graduation"]
    graduated = (
        f"{graduation['list_id']}: {len(graduation['certificates'])} certificates {graduation['list_state']},"
        f" printer's file {graduation['printer_file']}"
    )
    print(
        f"""
Done. The stack is still running (`make down` stops it).

{transfer_lines(deployment, report)}
  Student  {report["student_id"]}: {report["final_states"]["enrollment"]}
  Check-in {report["check_in"]["check_in"]["check_in_id"]}: {report["check_in"]["check_in"]["result"]} \
(student {report["check_in"]["student"]}, password {DEMO_PASSWORD})
  Graduation {graduated}
  Verify a certificate (no sign-in): {deployment.console_url("41")}/verify

{console_lines(deployment, accounts)}

  The transfer request's trace:   make trace ID={report["transfer_trace_id"]}
  The final approval's trace:     make trace ID={report["final_approval_trace_id"]}

  API docs: {endpoints["41"]["transfer"]}/docs  ·  {endpoints["37"]["enrollment"]}/docs  (each service)
  Health:   {endpoints["41"]["identity"]}/readyz  ·  metrics at /metrics
  Files:    {deployment.home}/endpoints.json  accounts.json  report.json   logs: {deployment.home}/log/
"""
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
