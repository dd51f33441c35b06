"""Reviews (审核) and the province's approval-chain configuration (业务流程配置).

One review item serves every business type: what is reviewed travels in ``payload``; the effect
of the final approval is chosen by ``business_type`` (services/enrollment/reviewing.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Identity, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class ApprovalChainRule(Base):
    __tablename__ = "approval_chain_rule"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    business_type: Mapped[str] = mapped_column(String(60))
    school_type: Mapped[str | None] = mapped_column(String(40))
    stage: Mapped[str | None] = mapped_column(String(40))
    region: Mapped[str | None] = mapped_column(String(6))
    levels: Mapped[list[str]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index(
            "approval_chain_rule_key",
            "business_type",
            "school_type",
            "stage",
            "region",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )


class ReviewItem(Base):
    __tablename__ = "review_item"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    business_type: Mapped[str] = mapped_column(String(60), index=True)
    # None until a record exists (a student without ID is created on the final approval).
    student_id: Mapped[str | None] = mapped_column(ForeignKey("student.id"), index=True)
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    chain: Mapped[list[str]] = mapped_column(JSONB)
    step: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20))  # domain/review_state.py ReviewState
    # The level deciding now (chain[step] while pending): what the queues filter on.
    current_level: Mapped[str | None] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))  # what the queue shows: no full ID numbers
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    evidence_ids: Mapped[list[str]] = mapped_column(JSONB)
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    step_started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    due_provisional: Mapped[bool] = mapped_column(default=False)
    overdue_flagged_on: Mapped[date | None] = mapped_column(Date)
    returned_reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (Index("review_item_queue", "state", "current_level", "due_on"),)


REVIEW_ORG = OrgColumns(
    province=ReviewItem.province_code,
    city=ReviewItem.city_code,
    county=ReviewItem.county_code,
    school=ReviewItem.school_code,
)


class ReviewDecision(Base):
    """Every step of an item: submitted, approved or rejected at a level (with the opinion),
    resubmitted, cancelled, flagged overdue."""

    __tablename__ = "review_decision"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("review_item.id"), index=True)
    level: Mapped[str | None] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str] = mapped_column(Text, default="")
    account_id: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
