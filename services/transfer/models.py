"""Tables of the transfer service: the cases, their timelines, and the schools it may receive into."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.transfer.domain.cross_province_transfer import TERMINAL_STATES, CaseLineage, OrgLineage
from shared.jurisdiction import OrgColumns


class Base(DeclarativeBase):
    pass


# One open case per student: a second application while one is under way is refused by the
# database, so two registrars applying at once cannot both succeed.
OPEN_CASE_INDEX = "transfer_case_one_open_per_student"
OPEN_CASE_WHERE = "state NOT IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(TERMINAL_STATES)))


class TransferCase(Base):
    """One transfer as this province keeps it. In a cross-province transfer both provinces hold a
    copy with the same id, kept in step by ``transfer.case.step`` events."""

    __tablename__ = "transfer_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(30))
    student_number: Mapped[str] = mapped_column(String(40))
    student_name: Mapped[str] = mapped_column(String(100))
    student_id: Mapped[str | None] = mapped_column(String(40))
    origin_province: Mapped[str] = mapped_column(String(2))
    # The origin's place is known only once the origin has checked the student.
    origin_city: Mapped[str | None] = mapped_column(String(4))
    origin_county: Mapped[str | None] = mapped_column(String(6))
    origin_school: Mapped[str | None] = mapped_column(String(10))
    origin_school_name: Mapped[str | None] = mapped_column(String(200))
    dest_province: Mapped[str] = mapped_column(String(2))
    dest_city: Mapped[str] = mapped_column(String(4))
    dest_county: Mapped[str] = mapped_column(String(6))
    dest_school: Mapped[str] = mapped_column(String(10))
    dest_school_name: Mapped[str] = mapped_column(String(200))
    dest_class_id: Mapped[str | None] = mapped_column(String(40))
    grade: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    origin_checked: Mapped[bool | None] = mapped_column(Boolean)
    origin_check_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    dest_checked: Mapped[bool | None] = mapped_column(Boolean)
    dest_check_reasons: Mapped[list[str]] = mapped_column(JSONB, default=list)
    student_summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # as the origin sent it: masked
    # The destination's enrollment may report the record created before the origin bureau's
    # approval step has reached us (two routes through the brokers); the completion then waits
    # for that step instead of failing.
    records_arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index(OPEN_CASE_INDEX, "student_number", unique=True, postgresql_where=text(OPEN_CASE_WHERE)),
    )

    def lineage(self) -> CaseLineage:
        return CaseLineage(
            destination=OrgLineage(self.dest_province, self.dest_city, self.dest_county, self.dest_school),
            origin=OrgLineage(self.origin_province, self.origin_city, self.origin_county, self.origin_school),
        )


class TransferStep(Base):
    """One line of a case's timeline: who did what, at which level, in which province, when."""

    __tablename__ = "transfer_step"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfer_case.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    level: Mapped[str | None] = mapped_column(String(20))
    state_after: Mapped[str] = mapped_column(String(30))
    actor_username: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(30))
    actor_org: Mapped[str] = mapped_column(String(10))
    actor_province: Mapped[str] = mapped_column(String(2))
    opinion: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("transfer_id", "seq", name="transfer_step_seq"),)


class SchoolView(Base):
    """The schools of this province as enrollment registered them: a destination's lineage and name."""

    __tablename__ = "school_view"

    school_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    province: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(4))
    county: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# Either side's school, county, city or province sees a case (shared.jurisdiction.any_jurisdiction).
DESTINATION_COLUMNS = OrgColumns(
    province=TransferCase.dest_province,
    city=TransferCase.dest_city,
    county=TransferCase.dest_county,
    school=TransferCase.dest_school,
)
# The origin's city, county and school are NULL until its check comes back: they match nobody.
ORIGIN_COLUMNS = OrgColumns(
    province=TransferCase.origin_province,
    city=TransferCase.origin_city,
    county=TransferCase.origin_county,
    school=TransferCase.origin_school,
)
