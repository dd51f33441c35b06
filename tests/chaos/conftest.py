"""Chaos tests: a whole deployment with faults injected while it works. They run in ``make test``
(marked ``e2e`` as well) and can be run alone with ``pytest -m chaos``."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: kills processes, restarts the broker and removes shovels")
