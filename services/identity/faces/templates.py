"""Face templates encrypted at rest with AES-256-GCM (DESIGN.md "Faces": biometrics are sensitive
personal information, PIPL art. 28).

Each template row stores the id of the key that sealed it, so keys can rotate: new captures use
the current key, old rows stay readable while their key is kept. The student id is the
associated data: a ciphertext copied onto another student's row fails to open.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DESCRIPTOR_LENGTH = 128
NONCE_BYTES = 12  # GCM's standard nonce; random per template (far below the 2^32 limit per key)


class TemplateUnreadable(Exception):
    """The key is missing or wrong, or the ciphertext was altered or moved to another student."""


@dataclass(frozen=True)
class SealedTemplate:
    key_id: str
    blob: bytes  # nonce ‖ ciphertext ‖ tag


@dataclass(frozen=True)
class TemplateKeys:
    keys: dict[str, bytes]
    current: str

    def seal(self, descriptor: np.ndarray, student_id: str) -> SealedTemplate:
        plain = np.asarray(descriptor, dtype="<f8").tobytes()
        if len(plain) != DESCRIPTOR_LENGTH * 8:
            raise ValueError(f"a face descriptor has {DESCRIPTOR_LENGTH} values")
        nonce = os.urandom(NONCE_BYTES)
        cipher = AESGCM(self.keys[self.current]).encrypt(nonce, plain, student_id.encode())
        return SealedTemplate(self.current, nonce + cipher)

    def open(self, sealed: SealedTemplate, student_id: str) -> np.ndarray:
        key = self.keys.get(sealed.key_id)
        if key is None:
            raise TemplateUnreadable(f"no template key {sealed.key_id!r}")
        nonce, cipher = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
        try:
            plain = AESGCM(key).decrypt(nonce, cipher, student_id.encode())
        except InvalidTag as exc:
            raise TemplateUnreadable("the template does not open with its key") from exc
        return np.frombuffer(plain, dtype="<f8").copy()


def generate_key_file(path: Path, key_id: str = "face-1") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"current": key_id, "keys": {key_id: base64.b64encode(AESGCM.generate_key(256)).decode()}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out)


def load_key_file(path: Path) -> TemplateKeys:
    """``{"current": "<id>", "keys": {"<id>": "<base64 of 32 bytes>", …}}``; rotate by adding a
    key and pointing ``current`` at it (``python -m services.identity.rotate_keys`` does both)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    keys = {kid: base64.b64decode(value) for kid, value in document["keys"].items()}
    if document["current"] not in keys or any(len(k) != 32 for k in keys.values()):
        raise ValueError(f"{path}: 'current' must name one of the 32-byte keys")
    return TemplateKeys(keys, document["current"])


def load_or_create_key_file(path: Path) -> TemplateKeys:
    if not path.exists():
        generate_key_file(path)
    return load_key_file(path)
