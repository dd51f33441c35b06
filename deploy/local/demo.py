"""``make demo``: bring both provinces up, run the walking skeleton, say where to look."""

from __future__ import annotations

import json
import sys

from deploy.local.scenario import Scenario, ScenarioFailed
from deploy.local.stack import demo_deployment, up


def main() -> int:
    deployment = demo_deployment()
    print("Starting provinces 41 (河南) and 37 (山东): 10 service processes …", flush=True)
    accounts = up(deployment)
    try:
        report = Scenario(deployment, accounts, log=lambda line: print(line, flush=True)).run()
    except ScenarioFailed as exc:
        print(f"\nThe scenario failed: {exc}\nLogs: {deployment.home / 'log'}", file=sys.stderr)
        return 1
    (deployment.home / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    endpoints = deployment.endpoints()
    print(
        f"""
Done. The stack is still running (`make down` stops it).

  Transfer {report["transfer_id"]}: {report["final_states"]["transfer"]}
  Student  {report["student_id"]}: {report["final_states"]["enrollment"]}
  Check-in {report["check_in"]["check_in"]["check_in_id"]}: {report["check_in"]["check_in"]["result"]} \
(student {report["check_in"]["student"]}, password in deploy/local/checkin_step.py)

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
