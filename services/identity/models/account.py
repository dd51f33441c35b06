"""Identity's tables: accounts of staff (seeded) and of students (opened by enrollment's events)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import CheckConstraint, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.models.base import Base
from shared.jurisdiction import OrgColumns


class Account(Base):
    """One sign-in. Staff accounts carry only their org code; a student's account also carries
    the lineage of the school it belongs to, so jurisdiction filters work on it in SQL. Issue 4
    (activation, face capture) hangs its tables off ``account.id``."""

    __tablename__ = "account"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id; NULL until a student activates the account (and for a seed entry without one).
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(30))
    org_code: Mapped[str] = mapped_column(String(10))
    province: Mapped[str] = mapped_column(String(2))
    display_name: Mapped[str] = mapped_column(String(200))
    student_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str | None] = mapped_column(String(2))
    city_code: Mapped[str | None] = mapped_column(String(4))
    county_code: Mapped[str | None] = mapped_column(String(6))
    school_code: Mapped[str | None] = mapped_column(String(10), index=True)
    # When the enrollment event that last set a student's status occurred: an older event
    # arriving late (a retried delivery) must not undo a newer one.
    student_event_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Issue 4: the counselor a registrar assigned (students), and a password the user must
    # change at next sign-in (a registrar's reset to a one-time password).
    counselor_id: Mapped[str | None] = mapped_column(String(36), index=True)  # account id, as tokens carry it
    must_change_password: Mapped[bool] = mapped_column(server_default="false")
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    class_id: Mapped[str | None] = mapped_column(String(40), index=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(40))
    id_number_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        CheckConstraint("status IN ('active', 'not_activated', 'deactivated')", name="account_status_known"),
        CheckConstraint(
            "(role = 'student') = (student_id IS NOT NULL)", name="account_student_id_iff_student"
        ),
    )


def account_org_columns() -> OrgColumns:
    """Lineage of student accounts (NULL for staff, which therefore never match)."""
    return OrgColumns(
        province=Account.province_code,  # NULL (staff) never matches
        city=Account.city_code,
        county=Account.county_code,
        school=Account.school_code,
        student=Account.student_id,
        counselor=Account.counselor_id,
    )
