"""Process settings, read from ``XUEJI_*`` environment variables (documented in docs/configuration.md)."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.partner_registry import read_registry


class Settings(BaseSettings):
    """One service process of one province."""

    model_config = SettingsConfigDict(env_prefix="XUEJI_", extra="ignore")

    service: str = Field(description="identity | enrollment | checkin | transfer | certificates")
    province: str = Field(pattern=r"^[0-9]{2}$", description="GB/T 2260 province code, e.g. 41")
    database_url: str = Field(description="postgresql+asyncpg://… of this service's own database")
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/xueji_41"
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_prefix: str = Field("xueji:41:", description="namespaces this deployment's keys in a shared Redis")
    identity_url: str = Field("http://127.0.0.1:8101", description="where the JWKS is published")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    partners: list[str] = Field(
        default_factory=list,
        description='partner province codes, e.g. ["37"]; taken from partners_file when that is set',
    )
    partners_file: Path | None = Field(
        None, description="partner registry JSON: codes, names, broker URIs, keys with validity windows"
    )
    signing_key_file: Path | None = Field(None, description="Ed25519 PEM that signs inter-province events")
    signing_key_id: str | None = Field(
        None, description="key id named in signatures; default: derived from the key (<province>-<sha8>)"
    )
    trust_file: Path | None = Field(
        None, description="older form, used only without partners_file: key id -> {province, alg, public_key}"
    )
    jwt_key_file: Path | None = Field(None, description="identity only: Ed25519 PEM that signs JWTs")
    access_token_minutes: int = 15
    trace_dir: Path = Path("var/traces")
    otlp_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    delivery_limit: int = Field(
        5, ge=1, le=18, description="handler attempts before an event is dead-lettered (broker backstop: 20)"
    )
    prefetch: int = Field(32, ge=1, le=1000)
    relay_batch: int = Field(100, ge=1, le=1000)
    seed_file: Path | None = Field(None, description="organisation tree and accounts to seed at start")
    # identity only (issue 4)
    face_key_file: Path | None = Field(
        None, description="identity only: JSON of AES-256 keys sealing face templates; created if missing"
    )
    service_token: str | None = Field(
        None, min_length=16, description="shared secret of the province's services for internal endpoints"
    )
    service_token_file: Path | None = Field(
        None, description="a file holding the service token (containers mount secrets as files)"
    )
    login_max_failures: int = Field(5, ge=1, description="identity: failed sign-ins before a lockout")
    login_lockout_seconds: int = Field(900, ge=1, description="identity: how long a lockout lasts")
    # Enrollment: the population registry (人口信息库) the identity check asks, over HTTP or, for
    # demos, a file of known name + ID pairs; neither set: no identity check (development only).
    population_registry_url: str | None = Field(None, description="enrollment: identity-check endpoint")
    population_registry_file: Path | None = Field(None, description="enrollment: JSON/CSV name+ID pairs")
    # Enrollment: the key every partner province shares for HMAC digests of ID numbers (查重).
    dedupe_hmac_key_file: Path | None = Field(None, description="enrollment: shared HMAC key for ID digests")
    import_batch_rows: int = Field(500, ge=1, le=5000, description="enrollment: import rows per transaction")
    review_sweep_seconds: float = Field(
        600.0, gt=0, le=86400, description="enrollment: how often overdue review steps are flagged"
    )

    # Check-in (issue 5): the province's daily opening hours (Asia/Shanghai), and the base URL at
    # which identity's face workers fetch this instance's selfies (ADR 0006).
    checkin_opens: time = Field(time(7, 0), description="checkin: check-ins accepted from (Asia/Shanghai)")
    checkin_closes: time = Field(time(23, 0), description="checkin: check-ins accepted until (Asia/Shanghai)")
    checkin_internal_url: str = Field(
        "http://127.0.0.1:8103", description="checkin: this instance's base URL inside the province"
    )

    # Check-in's round clock (issue 5): how often it looks, how early the closing notice goes
    # out, how long a closing waits for face results of attempts made in time.
    round_clock_seconds: float = Field(5.0, gt=0, le=3600, description="checkin: round clock tick")
    round_closing_lead_minutes: int = Field(120, ge=0, le=10080, description="checkin: closing notice lead")
    round_settle_minutes: int = Field(30, ge=0, le=1440, description="checkin: closing waits for faces")

    # Transfer (issue 7): how often overdue review steps are flagged and late cases expired, and
    # how many working days past its due date a step may stay undecided before the case expires.
    transfer_sweep_seconds: float = Field(
        300.0, gt=0, le=86400, description="transfer: how often overdue steps are flagged and expired"
    )
    transfer_expiry_workdays: int = Field(
        10, ge=0, le=250, description="transfer: working days past due before a case expires (0: never)"
    )

    # Certificates (issue 8, ADR 0012): where enrollment answers the internal certificate-facts
    # endpoint; the province's PAdES signing certificate, its key and the roots verifiers trust;
    # the Ed25519 key sealing QR payloads; the secret that permutes certificate serials; the
    # verification page the QR opens; where print batches write their files; the first day of
    # issuing (seed 004 art. 17: 11 June); public verification's requests per client per minute.
    enrollment_url: str = Field("http://127.0.0.1:8102", description="certificates: enrollment's base URL")
    certificate_signing_cert_file: Path | None = Field(
        None, description="certificates: PEM certificate (chain) signing electronic certificates (PAdES)"
    )
    certificate_signing_key_file: Path | None = Field(
        None, description="certificates: PEM private key of the PAdES signing certificate"
    )
    certificate_trust_roots_file: Path | None = Field(
        None, description="certificates: PEM root certificates a signed certificate is checked against"
    )
    certificate_payload_key_file: Path | None = Field(
        None, description="certificates: Ed25519 PEM sealing QR payloads; created if missing"
    )
    certificate_number_key_file: Path | None = Field(
        None, description="certificates: secret (32+ bytes) permuting certificate serials; created if missing"
    )
    certificate_verify_url: str = Field(
        "https://VERIFY.XUEJI.EXAMPLE/C/", description="certificates: base URL of the QR (upper case)"
    )
    certificate_output_dir: Path = Field(Path("var/certificates"), description="certificates: print files")
    certificate_print_processes: int | None = Field(
        None, ge=1, le=64, description="certificates: print worker's render processes (default: the CPUs)"
    )
    certificate_issue_from: str = Field(
        "06-11", pattern=r"^[01][0-9]-[0-3][0-9]$", description="certificates: first issuing day (MM-DD)"
    )
    verification_per_minute: int = Field(
        30, ge=1, le=100000, description="certificates: public verifications per client per minute"
    )

    @model_validator(mode="after")
    def _service_token_from_file(self) -> Settings:
        if self.service_token is None and self.service_token_file is not None:
            token = self.service_token_file.read_text().strip()
            if len(token) < 16:
                raise ValueError("the service token file holds fewer than 16 characters")
            self.service_token = token
        return self

    @model_validator(mode="after")
    def _partners_from_registry(self) -> Settings:
        # The registry is the one list of partners: XUEJI_PARTNERS beside it would be a second
        # place to forget a province in.
        if self.partners_file is not None:
            if not self.partners_file.exists():
                raise ValueError(f"XUEJI_PARTNERS_FILE {self.partners_file} does not exist")
            self.partners = read_registry(self.partners_file).codes
        return self

    @property
    def sync_database_url(self) -> str:
        """The same database through psycopg, for Alembic (which runs synchronously)."""
        return self.database_url.replace("+asyncpg", "+psycopg")
