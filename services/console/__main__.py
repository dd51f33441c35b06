"""``python -m services.console``: the console of one province.

Plain HTTP on ``XUEJI_HTTP_HOST:XUEJI_HTTP_PORT`` (localhost is a secure context for the camera);
with ``XUEJI_TLS_PORT`` and a certificate, also HTTPS on every interface, for phones on the
local network."""

from __future__ import annotations

import asyncio
import signal
from types import FrameType

import uvicorn

from services.console.app import create_app
from services.console.settings import ConsoleSettings
from shared.telemetry import setup_json_logging, setup_tracing


def _exit_normally(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


async def _serve(settings: ConsoleSettings) -> None:
    app = create_app(settings)
    configs = [
        uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False
        )
    ]
    if settings.tls_port and settings.tls_cert_file and settings.tls_key_file:
        configs.append(
            uvicorn.Config(
                app,
                host="0.0.0.0",  # phones on the local network reach it by another name
                port=settings.tls_port,
                ssl_certfile=str(settings.tls_cert_file),
                ssl_keyfile=str(settings.tls_key_file),
                log_config=None,
                access_log=False,
                lifespan="off",  # the first server runs the app's start-up for both
            )
        )
    await asyncio.gather(*(uvicorn.Server(config).serve() for config in configs))


def main() -> None:
    settings = ConsoleSettings()
    setup_json_logging("console", settings.province)
    setup_tracing("console", settings.province, settings.trace_dir, otlp_endpoint=settings.otlp_endpoint)
    signal.signal(signal.SIGTERM, _exit_normally)
    asyncio.run(_serve(settings))


if __name__ == "__main__":
    main()
