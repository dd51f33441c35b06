"""Registration rounds (the province, per term) and ad-hoc verification rounds (any level,
for its own jurisdiction)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import ARRAY, DateTime, Float, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.checkin.models.base import Base


class Round(Base):
    __tablename__ = "round"

    id: Mapped[UUID] = mapped_column(primary_key=True, default=uuid4)
    kind: Mapped[str] = mapped_column(String(20))  # registration | verification
    name: Mapped[str] = mapped_column(String(200))
    term: Mapped[str] = mapped_column(String(20), index=True)  # e.g. 2026-autumn
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    grades: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    # Who published it, as a lineage, so jurisdiction filters apply to rounds like to records.
    scope_level: Mapped[str] = mapped_column(String(10))  # province | city | county | school
    scope_code: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str | None] = mapped_column(String(4))
    county_code: Mapped[str | None] = mapped_column(String(6))
    school_code: Mapped[str | None] = mapped_column(String(10))
    # "every" check-in's face is checked, or a "sampled" fraction plus every suspicious attempt.
    face_policy: Mapped[str] = mapped_column(String(10), default="every")
    face_sample_rate: Mapped[float] = mapped_column(Float, default=1.0)
    state: Mapped[str] = mapped_column(String(10), default="scheduled")  # scheduled | open | closed
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closing_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
