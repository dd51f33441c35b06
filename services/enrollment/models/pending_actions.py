"""Pending actions (待办) of a school registrar, opened by what check-in reports (DOMAIN.md
"Registration rounds": missed rounds → change study form, suspend or withdraw within 5 working
days; leave past 15 days in a term → suspend)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class PendingAction(Base):
    __tablename__ = "pending_action"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # domain/pending_action.py ActionKind
    # What check-in named it by (the prompt id; student + term for a suspension proposal): the
    # same report twice, or a withdrawal before its prompt, finds this row.
    source_key: Mapped[str] = mapped_column(String(120))
    student_id: Mapped[str] = mapped_column(ForeignKey("student.id"), index=True)
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    term: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))  # open | resolved | withdrawn
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB)
    opened_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    overdue_flagged_on: Mapped[date | None] = mapped_column(Date)
    # The status change that answers it (set when the school starts it; resolved on approval).
    review_id: Mapped[str | None] = mapped_column(ForeignKey("review_item.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by_appeal: Mapped[str | None] = mapped_column(String(40))
    reverted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        UniqueConstraint("kind", "source_key", name="pending_action_source"),
        Index("pending_action_open", "state", "due_on"),
    )


PENDING_ACTION_ORG = OrgColumns(
    province=PendingAction.province_code,
    city=PendingAction.city_code,
    county=PendingAction.county_code,
    school=PendingAction.school_code,
)
