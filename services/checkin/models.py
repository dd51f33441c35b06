from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.readmodels import StudentViewMixin


class Base(DeclarativeBase):
    """Check-in's own tables (outbox and inbox come from shared/bus/tables.py)."""


class StudentView(StudentViewMixin, Base):
    """Who may check in, and where they belong."""


class CampusView(Base):
    """A campus boundary as enrollment registered it; check-ins are judged against it."""

    __tablename__ = "campus_view"

    campus_id: Mapped[str] = mapped_column(String(60), primary_key=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(200))
    crs: Mapped[str] = mapped_column(String(10))  # the datum the boundary was drawn in
    boundary: Mapped[dict[str, Any]] = mapped_column(JSONB)
