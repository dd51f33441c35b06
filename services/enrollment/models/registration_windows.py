"""Supplementary registration windows (补注册) the province grants after an intake's regular
deadline (domain/registration_window.py; seed 004 art. 6)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class SupplementaryRegistrationWindow(Base):
    """One grant. The scope is the lineage down to the level it is limited to (a county-wide
    window names province, city and county; a province-wide one the province only). Closing
    early keeps the row, with who closed it and why: the grants are evidence of why a late
    registration was accepted."""

    __tablename__ = "supplementary_registration_window"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    intake_year: Mapped[int] = mapped_column(Integer)
    season: Mapped[str] = mapped_column(String(10))
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str | None] = mapped_column(String(4))
    county_code: Mapped[str | None] = mapped_column(String(6))
    school_code: Mapped[str | None] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(100))  # account id
    granted_by_name: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(100))
    closed_by_name: Mapped[str | None] = mapped_column(String(100))
    close_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("season IN ('autumn', 'spring')", name="supplementary_window_season"),
        CheckConstraint("starts_on <= ends_on", name="supplementary_window_dates"),
        # What a registration asks: the open grants of one intake.
        Index(
            "supplementary_window_intake", "intake_year", "season", postgresql_where=text("closed_at IS NULL")
        ),
    )


WINDOW_ORG = OrgColumns(
    province=SupplementaryRegistrationWindow.province_code,
    city=SupplementaryRegistrationWindow.city_code,
    county=SupplementaryRegistrationWindow.county_code,
    school=SupplementaryRegistrationWindow.school_code,
)
