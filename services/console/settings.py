"""The console's settings, read from ``XUEJI_*`` variables (docs/configuration.md).

The console owns no data: no database, broker or Redis; only where the province's services are
and, for phones on the local network, the certificate it serves HTTPS with."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XUEJI_", extra="ignore")

    province: str = Field(pattern=r"^[0-9]{2}$", description="GB/T 2260 province code, e.g. 41")
    http_host: str = "127.0.0.1"
    http_port: int = 8106
    identity_url: str = "http://127.0.0.1:8101"
    enrollment_url: str = "http://127.0.0.1:8102"
    checkin_url: str = "http://127.0.0.1:8103"
    transfer_url: str = "http://127.0.0.1:8104"
    certificates_url: str = "http://127.0.0.1:8105"
    # A second listener with TLS, for other host names (a phone on the local network needs a
    # secure context for its camera and position); off unless both files are given.
    tls_port: int | None = Field(None, description="console only: HTTPS port on all interfaces")
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    trace_dir: Path = Path("var/traces")
    otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    upstream_timeout_seconds: float = Field(20.0, gt=0, le=120)

    def service_url(self, service: str) -> str:
        urls = {
            "identity": self.identity_url,
            "enrollment": self.enrollment_url,
            "checkin": self.checkin_url,
            "transfer": self.transfer_url,
            "certificates": self.certificates_url,
        }
        return urls[service]
