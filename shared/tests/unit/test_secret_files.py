"""create_once: the first writer's key stays; no half-written file; 0600."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.secret_files import create_once


def test_create_once__writes_0600_and_keeps_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "number.key"

    create_once(path, b"first")
    create_once(path, b"second")

    assert path.read_bytes() == b"first"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert list(path.parent.iterdir()) == [path]  # no draft left behind


def test_create_once__many_writers_at_once_leave_one_of_their_contents(tmp_path: Path) -> None:
    path = tmp_path / "key"
    contents = [f"key-{n}".encode() * 100 for n in range(16)]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda content: create_once(path, content), contents))

    assert path.read_bytes() in contents
    assert list(tmp_path.iterdir()) == [path]
