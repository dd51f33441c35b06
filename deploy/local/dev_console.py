"""Run one province's console in the foreground against the services ``make demo`` left running,
on a port of your choosing: for working on pages (restart it to load changed Python; templates
are re-read on each request).

    python -m deploy.local.dev_console 41 9141
    XUEJI_BROWSER_ON_DEMO=1 XUEJI_BROWSER_CONSOLE_41=http://127.0.0.1:9141 pytest tests/browser -k …
"""

from __future__ import annotations

import argparse
import os
import sys

from deploy.local.stack import demo_deployment


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("province", choices=demo_deployment().provinces)
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    env = demo_deployment().console_environment(args.province)
    env["XUEJI_HTTP_PORT"] = str(args.port)
    for variable in ("XUEJI_TLS_PORT", "XUEJI_TLS_CERT_FILE", "XUEJI_TLS_KEY_FILE"):
        env.pop(variable, None)
    os.execve(sys.executable, [sys.executable, "-m", "services.console"], {**os.environ, **env})


if __name__ == "__main__":
    main()
