"""Key files a service makes for itself on first start.

Two processes starting together must end up with one key, and neither may read a half-written
file: the content is written aside (0600), then linked into place; ``os.link`` refuses to replace
a name that exists, so the first process to link wins and the other keeps the winner's key.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def create_once(path: Path, content: bytes) -> None:
    """``path`` holds ``content`` (mode 0600) unless a file was there already: that one stays."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()
