"""Each province's partner registry (``<keys>/<province>/partners.json``), kept in step with the
deployment's province list and with every partner's current signing key.

Idempotent, and it keeps what a rotation wrote: an old key stays listed with its ``not_after``,
so re-provisioning during an overlap does not cut it short, and an event signed with it after
the overlap is refused as "expired" rather than as an unknown key.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy.local.layout import Deployment, read_seed
from shared.partner_registry import Partner, PartnerKey, PartnerRegistry, read_registry, write_registry
from shared.signing import ED25519, key_id_of, load_private_key, public_key_b64


def province_name(province: str) -> str:
    """The province's name as its seed file gives it (e.g. 河南省)."""
    return str(read_seed(province)["province"]["name"])


def key_entry(province: str, key: Ed25519PrivateKey, *, valid_from: datetime) -> PartnerKey:
    """How a partner's registry lists one of the province's signing keys."""
    return PartnerKey(
        key_id=key_id_of(province, key), alg=ED25519, public_key=public_key_b64(key), not_before=valid_from
    )


def current_key(deployment: Deployment, province: str, *, valid_from: datetime) -> PartnerKey:
    key = load_private_key(deployment.keys_dir(province) / "signing.pem")
    return key_entry(province, key, valid_from=valid_from)


def ensure_partner_registries(deployment: Deployment, *, now: datetime | None = None) -> None:
    """Every province lists every other one of the deployment, with that partner's current key."""
    moment = now or datetime.now(UTC)
    for province in deployment.provinces:
        path = deployment.partners_file(province)
        existing = read_registry(path) if path.exists() else PartnerRegistry()
        partners: list[Partner] = []
        for code in deployment.partners(province):
            known = existing.partner(code)
            keys = list(known.keys) if known else []
            current = current_key(deployment, code, valid_from=moment)
            if all(k.key_id != current.key_id for k in keys):
                keys.append(current)
            partners.append(
                Partner(
                    code=code, name=province_name(code), broker_uri=deployment.broker_uri(code), keys=keys
                )
            )
        registry = PartnerRegistry(partners=partners)
        if registry != existing or not path.exists():
            write_registry(path, registry)
