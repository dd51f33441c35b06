"""The service token may come from a file (containers mount secrets as files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import Settings


def _settings(*, service_token: str | None = None, service_token_file: Path | None = None) -> Settings:
    return Settings(
        service="checkin",
        province="41",
        database_url="postgresql+asyncpg://x/y",
        service_token=service_token,
        service_token_file=service_token_file,
    )


def test_service_token__read_from_the_file_when_not_given(tmp_path: Path) -> None:
    file = tmp_path / "service.token"
    file.write_text("a-token-of-enough-length\n")
    assert _settings(service_token_file=file).service_token == "a-token-of-enough-length"


def test_service_token__the_variable_wins_over_the_file(tmp_path: Path) -> None:
    file = tmp_path / "service.token"
    file.write_text("the-token-in-the-file")
    assert _settings(service_token="the-token-in-the-variable", service_token_file=file).service_token == (
        "the-token-in-the-variable"
    )


def test_service_token__a_short_token_in_the_file_stops_the_process(tmp_path: Path) -> None:
    file = tmp_path / "service.token"
    file.write_text("short")
    with pytest.raises(ValidationError, match="fewer than 16"):
        _settings(service_token_file=file)
