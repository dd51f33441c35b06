"""Marks tests by where they live: ``*/integration/`` talk to the real servers, ``tests/e2e/``
and ``tests/browser/`` start the provinces' processes. ``make test-fast`` skips both."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = str(item.path)
        if "/integration/" in path:
            item.add_marker(pytest.mark.integration)
        if "/tests/e2e/" in path or "/tests/browser/" in path:
            item.add_marker(pytest.mark.e2e)
