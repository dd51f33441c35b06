"""Where each process of a local deployment lives: ports, databases, virtual hosts, files.

One deployment holds several provinces on one machine: each province its own virtual host,
its own databases and its own five processes (DESIGN.md "Shape").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.local.certificate_ca import paths_for

SERVICES = ("identity", "enrollment", "checkin", "transfer", "certificates")
# The web console of each province (services/console): no database or broker of its own.
CONSOLE = "console"
HTTP_PROCESSES = (*SERVICES, CONSOLE)
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
AMQP_SERVER = "amqp://guest:guest@127.0.0.1:5672"
REDIS_URL = "redis://127.0.0.1:6379/0"
SEED_DIR = Path(__file__).resolve().parents[1] / "seed"
# The demo's stand-in for the population registry (人口信息库): the demo students' name + ID.
POPULATION_FILE = SEED_DIR / "population.json"


def read_seed(province: str) -> dict[str, Any]:
    """The province's organisation tree and accounts (deploy/seed/<province>.json)."""
    seed: dict[str, Any] = json.loads((SEED_DIR / f"{province}.json").read_text())
    return seed


@dataclass(frozen=True)
class Deployment:
    name: str  # "demo", or a unique name per test run
    provinces: tuple[str, ...] = ("41", "37")
    root: Path = Path("var")
    ports: dict[str, dict[str, int]] = field(default_factory=dict)  # province -> service -> port
    keys_root: Path | None = None  # docker compose keeps keys in a volume: /keys/<province>/
    vhost_template: str = "xueji_{name}_{province}"
    # Where a shovel running inside the broker delivers to a partner's virtual host; written
    # into each province's partner registry (docker compose adds its broker user).
    broker_uri_template: str = "amqp:///{vhost}"
    # province -> HTTPS port of its console on every interface, for phones on the local network
    # (deploy/local/console_tls.py makes the certificate); none in tests.
    console_tls_ports: dict[str, int] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / self.name

    @property
    def trace_dir(self) -> Path:
        return self.root / "traces" / self.name

    def vhost(self, province: str) -> str:
        return self.vhost_template.format(name=self.name, province=province)

    def database_url(self, province: str, service: str) -> str:
        return f"{PG_SERVER}/xueji_{self.name}_{province}_{service}"

    def port(self, province: str, service: str) -> int:
        return self.ports[province][service]

    def base_url(self, province: str, service: str) -> str:
        return f"http://127.0.0.1:{self.port(province, service)}"

    def keys_dir(self, province: str) -> Path:
        return (self.keys_root or self.home / "keys") / province

    @property
    def dedupe_key_file(self) -> Path:
        """The HMAC key for ID digests every province of the deployment shares."""
        return (self.keys_root or self.home / "keys") / "dedupe.key"

    @property
    def certificate_ca_dir(self) -> Path:
        """The demo certificate authority's root, with each province's certificate keys under
        ``<province>/`` (deploy/local/certificate_ca.py): the provinces' key directories."""
        return self.keys_root or self.home / "keys"

    def certificate_number_key_file(self, province: str) -> Path:
        """The secret permuting the province's certificate serials; provisioning makes it, as
        containers mount the keys read-only (services/certificates/numbers.py)."""
        return self.keys_dir(province) / "certificate-number.key"

    def certificate_output_dir(self, province: str) -> Path:
        """Where the province's print batches write their PDFs and lists."""
        return self.home / "certificates" / province

    def partners(self, province: str) -> list[str]:
        return [p for p in self.provinces if p != province]

    def partners_file(self, province: str) -> Path:
        """The province's partner registry (shared/partner_registry.py)."""
        return self.keys_dir(province) / "partners.json"

    def broker_uri(self, province: str) -> str:
        return self.broker_uri_template.format(vhost=self.vhost(province))

    def endpoints(self) -> dict[str, dict[str, str]]:
        return {p: {s: self.base_url(p, s) for s in SERVICES} for p in self.provinces}

    def console_url(self, province: str) -> str:
        return self.base_url(province, CONSOLE)

    @property
    def console_tls_dir(self) -> Path:
        return (self.keys_root or self.home / "keys") / "console-tls"

    def console_environment(self, province: str) -> dict[str, str]:
        """The console's XUEJI_* variables: where its province's services are."""
        env = {
            "XUEJI_PROVINCE": province,
            "XUEJI_HTTP_HOST": "127.0.0.1",
            "XUEJI_HTTP_PORT": str(self.port(province, CONSOLE)),
            "XUEJI_TRACE_DIR": str(self.trace_dir.resolve()),
            **{f"XUEJI_{s.upper()}_URL": self.base_url(province, s) for s in SERVICES},
        }
        tls_port = self.console_tls_ports.get(province)
        if tls_port is not None:
            env["XUEJI_TLS_PORT"] = str(tls_port)
            env["XUEJI_TLS_CERT_FILE"] = str((self.console_tls_dir / "console.pem").resolve())
            env["XUEJI_TLS_KEY_FILE"] = str((self.console_tls_dir / "console.key").resolve())
        return env

    def environment(self, province: str, service: str) -> dict[str, str]:
        """The XUEJI_* variables of one process (docs/configuration.md)."""
        if service == CONSOLE:
            return self.console_environment(province)
        keys = self.keys_dir(province)
        env = {
            "XUEJI_PROVINCE": province,
            "XUEJI_DATABASE_URL": self.database_url(province, service),
            "XUEJI_AMQP_URL": f"{AMQP_SERVER}/{self.vhost(province)}",
            "XUEJI_REDIS_URL": REDIS_URL,
            "XUEJI_REDIS_PREFIX": f"xueji:{self.name}:{province}:",
            "XUEJI_IDENTITY_URL": self.base_url(province, "identity"),
            "XUEJI_HTTP_HOST": "127.0.0.1",
            "XUEJI_HTTP_PORT": str(self.port(province, service)),
            "XUEJI_PARTNERS_FILE": str(self.partners_file(province).resolve()),
            "XUEJI_SIGNING_KEY_FILE": str((keys / "signing.pem").resolve()),
            "XUEJI_TRACE_DIR": str(self.trace_dir.resolve()),
        }
        token_file = keys / "service.token"
        if token_file.exists():  # the province's services authenticate to each other with it
            env["XUEJI_SERVICE_TOKEN"] = token_file.read_text().strip()
        if service == "identity":
            env["XUEJI_JWT_KEY_FILE"] = str((keys / "jwt.pem").resolve())
            env["XUEJI_FACE_KEY_FILE"] = str((keys / "face-templates.json").resolve())
        if service in ("identity", "enrollment"):
            env["XUEJI_SEED_FILE"] = str((keys / "seed.json").resolve())
            env["XUEJI_DEDUPE_HMAC_KEY_FILE"] = str(self.dedupe_key_file.resolve())
        if service == "enrollment":
            env["XUEJI_POPULATION_REGISTRY_FILE"] = str(POPULATION_FILE)
        if service == "certificates":
            ca = paths_for(self.certificate_ca_dir, province)
            env["XUEJI_ENROLLMENT_URL"] = self.base_url(province, "enrollment")
            env["XUEJI_CERTIFICATE_SIGNING_CERT_FILE"] = str(ca.signing_cert.resolve())
            env["XUEJI_CERTIFICATE_SIGNING_KEY_FILE"] = str(ca.signing_key.resolve())
            env["XUEJI_CERTIFICATE_TRUST_ROOTS_FILE"] = str(ca.root_cert.resolve())
            env["XUEJI_CERTIFICATE_PAYLOAD_KEY_FILE"] = str(ca.payload_key.resolve())
            number_key = self.certificate_number_key_file(province)
            env["XUEJI_CERTIFICATE_NUMBER_KEY_FILE"] = str(number_key.resolve())
            env["XUEJI_CERTIFICATE_OUTPUT_DIR"] = str(self.certificate_output_dir(province).resolve())
        if service == "checkin":  # face workers fetch selfies here (ADR 0006)
            env["XUEJI_CHECKIN_INTERNAL_URL"] = self.base_url(province, "checkin")
            # The demo and the end-to-end tests run at any hour; a province keeps 07:00–23:00.
            env["XUEJI_CHECKIN_OPENS"] = "00:00"
            env["XUEJI_CHECKIN_CLOSES"] = "23:59:59"
        return env


def demo_ports(provinces: tuple[str, ...] = ("41", "37")) -> dict[str, dict[str, int]]:
    """Fixed, memorable ports for the demo: 41 → 8101–8105 and its console 8106, 37 → 8201–8206,
    a third → 8301–…"""
    return {
        p: {s: 8100 + 100 * i + j + 1 for j, s in enumerate(HTTP_PROCESSES)} for i, p in enumerate(provinces)
    }


def demo_console_tls_ports(provinces: tuple[str, ...] = ("41", "37")) -> dict[str, int]:
    """HTTPS for phones: 41 → 8443, 37 → 8444."""
    return {p: 8443 + i for i, p in enumerate(provinces)}
