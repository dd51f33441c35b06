"""Dual post (双岗, DOMAIN.md "Organisation tree and roles"; DESIGN.md "Cross-cutting"): a bulk
export of personal data needs the approval of a second user of the same school or bureau, and
the file is handed over once, to the requester, within a time limit.

The rule every service's exports follow (enrollment's student lists, check-in's lists, transfer's
跨省转学查询 list); the request → approve → download flow around it is shared/dual_post_exports.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DOWNLOAD_WINDOW = timedelta(hours=24)


class ExportState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DOWNLOADED = "downloaded"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Account:
    account_id: str
    org: str
    province: str
    is_school: bool  # a school account (registrar, leader) rather than a bureau's


def may_approve_export(requester: Account, approver: Account) -> str | None:
    """None if ``approver`` may approve ``requester``'s export, else the reason (English)."""
    if approver.account_id == requester.account_id:
        return "the requester cannot approve their own export: a second user must"
    if (approver.org, approver.province) != (requester.org, requester.province):
        return "only a user of the same school or bureau may approve"
    if approver.is_school != requester.is_school:
        return "a school export is approved by the school, a bureau export by the bureau"
    return None


def export_state(
    *, approved_at: datetime | None, downloaded_at: datetime | None, now: datetime
) -> ExportState:
    if downloaded_at is not None:
        return ExportState.DOWNLOADED
    if approved_at is None:
        return ExportState.PENDING
    if now - approved_at > DOWNLOAD_WINDOW:
        return ExportState.EXPIRED
    return ExportState.APPROVED
