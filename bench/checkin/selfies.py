"""Real JPEG selfies for the load: photos of the labelled faces, scaled as a phone app sends
them, each made unique per check-in with a JPEG comment segment (the same bytes sent twice
are a cheating signal, so a benchmark that reused one file would measure the wrong path)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image, ImageOps

FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"


def phone_jpegs(width: int = 480, limit: int = 12) -> dict[str, list[bytes]]:
    """Person → JPEGs (single-person photos), scaled to ``width`` px like an app's upload."""
    found: dict[str, list[bytes]] = {}
    for path in sorted(FACES.glob("*/*.jp*g")):
        if path.parent.name in {"multi", "other"}:
            continue
        image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        if image.width > width:
            image = image.resize((width, round(image.height * width / image.width)))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        found.setdefault(path.parent.name, []).append(buffer.getvalue())
    return {person: blobs[:limit] for person, blobs in found.items()}


def unique_copy(jpeg: bytes, tag: str) -> bytes:
    """The same picture with a COM segment right after SOI: different bytes, same pixels."""
    comment = tag.encode()
    return jpeg[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + jpeg[2:]
