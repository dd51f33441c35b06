"""Sending one-time codes to phones. ``Sender`` is the interface an SMS gateway will implement;
``LogSender`` writes the code to the log for demos and keeps the last one per phone for tests."""

from __future__ import annotations

import logging
from typing import Protocol

log = logging.getLogger(__name__)


class Sender(Protocol):
    async def send_code(self, phone: str, code: str) -> None: ...


class LogSender:
    def __init__(self) -> None:
        self.sent: dict[str, str] = {}

    async def send_code(self, phone: str, code: str) -> None:
        self.sent[phone] = code
        # The masked phone only: the log is not a place for personal data.
        log.info("verification code for %s: %s", f"{phone[:3]}****{phone[-4:]}", code)
