"""Dual post (双岗): a second user of the same school or bureau approves; one download, in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.dual_post import (
    DOWNLOAD_WINDOW,
    Account,
    ExportState,
    export_state,
    may_approve_export,
)

REGISTRAR = Account("a1", "4141010001", "41", is_school=True)


def test_may_approve_export__second_user_of_the_same_school() -> None:
    assert may_approve_export(REGISTRAR, Account("a2", "4141010001", "41", is_school=True)) is None


def test_may_approve_export__refusals() -> None:
    assert may_approve_export(REGISTRAR, REGISTRAR) is not None
    assert may_approve_export(REGISTRAR, Account("a3", "4141010002", "41", is_school=True)) is not None
    assert may_approve_export(REGISTRAR, Account("a4", "4141010001", "37", is_school=True)) is not None
    assert may_approve_export(REGISTRAR, Account("a5", "4141010001", "41", is_school=False)) is not None


def test_export_state__pending_approved_expired_downloaded() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    assert export_state(approved_at=None, downloaded_at=None, now=now) is ExportState.PENDING
    assert (
        export_state(approved_at=now - timedelta(hours=1), downloaded_at=None, now=now)
        is ExportState.APPROVED
    )
    late = now - DOWNLOAD_WINDOW - timedelta(seconds=1)
    assert export_state(approved_at=late, downloaded_at=None, now=now) is ExportState.EXPIRED
    assert export_state(approved_at=late, downloaded_at=now, now=now) is ExportState.DOWNLOADED
