from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Identity's tables (outbox and inbox come from shared/bus/tables.py)."""
