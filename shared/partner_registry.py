"""The partner registry: which provinces this province exchanges events with, where its shovels
deliver them, and each partner's signing keys with their validity windows (docs/configuration.md
"Partner provinces"). One JSON file per province (``XUEJI_PARTNERS_FILE``); adding a partner or
a partner's new key is an edit of this file, never of code.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, Field, model_validator


class PartnerKey(BaseModel):
    key_id: str = Field(min_length=1)
    alg: str = "Ed25519"
    public_key: str = Field(min_length=1, description="base64 of the raw public key")
    not_before: AwareDatetime
    not_after: AwareDatetime | None = None

    def is_valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment and (self.not_after is None or moment <= self.not_after)


class Partner(BaseModel):
    code: str = Field(pattern=r"^[0-9]{2}$")
    name: str
    broker_uri: str = Field(description="where this province's shovel delivers events for the partner")
    keys: list[PartnerKey] = Field(default_factory=list)


class PartnerRegistry(BaseModel):
    partners: list[Partner] = Field(default_factory=list)

    @model_validator(mode="after")
    def _codes_and_key_ids_unique(self) -> PartnerRegistry:
        codes = [p.code for p in self.partners]
        if len(codes) != len(set(codes)):
            raise ValueError(f"a partner province is listed twice: {codes}")
        key_ids = [k.key_id for p in self.partners for k in p.keys]
        if len(key_ids) != len(set(key_ids)):
            raise ValueError("a key id is listed twice")
        return self

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.partners]

    def partner(self, code: str) -> Partner | None:
        return next((p for p in self.partners if p.code == code), None)


def read_registry(path: Path) -> PartnerRegistry:
    return PartnerRegistry.model_validate_json(path.read_bytes())


def write_registry(path: Path, registry: PartnerRegistry) -> None:
    """Replace the file in one rename, so a service reloading it never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(registry.model_dump(mode="json"), ensure_ascii=False, indent=1)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    Path(tmp).replace(path)
