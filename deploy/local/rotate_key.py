"""Rotate a province's signing key with an overlap, without stopping anything.

python -m deploy.local.rotate_key --deployment demo --province 41 [--overlap-seconds 86400]

1. A new Ed25519 key is made beside the old one.
2. Every partner's registry lists it from now (``not_before``) and ends the old key at
   now + overlap (``not_after``). Partners reload their registry within seconds, and at once
   when an event names a key they do not know yet.
3. The province's ``signing.pem`` is replaced in one rename. Its running services notice the
   changed file within seconds and sign with the new key from then on (``Signer``); events
   signed earlier, in outboxes or in partner queues, still verify until the overlap ends.

The overlap must outlast the longest a partner may be unreachable: an event signed with the old
key that reaches the partner after ``not_after`` is dead-lettered ("expired") and has to be
re-sent.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deploy.local.layout import Deployment
from deploy.local.partners import key_entry
from shared.partner_registry import read_registry, write_registry
from shared.signing import generate_private_key_file, key_id_of, load_private_key

DEFAULT_OVERLAP_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Rotation:
    province: str
    old_key_id: str
    new_key_id: str
    old_key_valid_until: datetime


def rotate_signing_key(
    deployment: Deployment, province: str, *, overlap: timedelta, now: datetime | None = None
) -> Rotation:
    moment = now or datetime.now(UTC)
    keys_dir = deployment.keys_dir(province)
    signing_file = keys_dir / "signing.pem"
    old_key_id = key_id_of(province, load_private_key(signing_file))
    staged = keys_dir / "signing.pem.next"
    new_entry = key_entry(province, generate_private_key_file(staged), valid_from=moment)
    new_key_id = new_entry.key_id
    valid_until = moment + overlap
    # Partners first: by the time anything is signed with the new key, they list it.
    for partner in deployment.partners(province):
        path = deployment.partners_file(partner)
        registry = read_registry(path)
        entry = registry.partner(province)
        if entry is None:
            raise ValueError(f"province {partner}'s registry does not list {province}: provision first")
        for key in entry.keys:
            if key.key_id == old_key_id and (key.not_after is None or key.not_after > valid_until):
                key.not_after = valid_until
        if all(k.key_id != new_key_id for k in entry.keys):
            entry.keys.append(new_entry)
        write_registry(path, registry)
    staged.replace(signing_file)
    (keys_dir / "signing.kid").write_text(new_key_id)
    return Rotation(province, old_key_id, new_key_id, valid_until)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deployment", default="demo", help="deployment name (var/<name>)")
    parser.add_argument("--root", default="var", help="where deployments live")
    parser.add_argument("--province", required=True)
    parser.add_argument(
        "--partners", default=None, help="comma-separated provinces (default: from var/<name>)"
    )
    parser.add_argument("--overlap-seconds", type=int, default=DEFAULT_OVERLAP_SECONDS)
    args = parser.parse_args()
    root = Path(args.root)
    provinces = (
        _provinces_of(root / args.deployment)
        if args.partners is None
        else (args.province, *args.partners.split(","))
    )
    rotation = rotate_signing_key(
        Deployment(name=args.deployment, root=root, provinces=provinces),
        args.province,
        overlap=timedelta(seconds=args.overlap_seconds),
    )
    print(
        json.dumps(
            {
                "province": rotation.province,
                "old_key_id": rotation.old_key_id,
                "new_key_id": rotation.new_key_id,
                "old_key_valid_until": rotation.old_key_valid_until.isoformat(),
            }
        )
    )


def _provinces_of(home: Path) -> tuple[str, ...]:
    """The provinces a provisioned deployment has keys for."""
    keys = home / "keys"
    found = (
        tuple(sorted(p.name for p in keys.iterdir() if (p / "signing.pem").exists())) if keys.exists() else ()
    )
    if not found:
        raise SystemExit(f"no provisioned provinces under {keys}")
    return found


if __name__ == "__main__":
    main()
