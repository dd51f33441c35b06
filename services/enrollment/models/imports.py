"""Excel imports of a class (学籍导入): the job, its file and one row per spreadsheet row.

The state lives here, not in the worker's memory, so an import resumes after a restart: rows
still ``pending`` are the work left; ``lease_until`` lets exactly one worker hold a job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.enrollment.models import Base
from shared.jurisdiction import OrgColumns


class RegistrationImport(Base):
    __tablename__ = "registration_import"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("school_class.id"), index=True)
    # Lineage of the class's school: whose jurisdiction the import is in.
    province_code: Mapped[str] = mapped_column(String(2))
    city_code: Mapped[str] = mapped_column(String(4))
    county_code: Mapped[str] = mapped_column(String(6))
    school_code: Mapped[str] = mapped_column(String(10), index=True)
    # "class" (the class's one full import) or "retry" (the fixed failed rows of ``retry_of``).
    kind: Mapped[str] = mapped_column(String(10))
    retry_of: Mapped[str | None] = mapped_column(String(40))
    id_type: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(255))
    content_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read by the worker only
    status: Mapped[str] = mapped_column(String(20))  # queued | running | done
    total: Mapped[int | None] = mapped_column(Integer)  # known once the worker has read the file
    processed: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One class is imported once (seed 003: 每个班只能导入一次); fixed failed rows come as retries.
        Index(
            "registration_import_one_per_class",
            "class_id",
            unique=True,
            postgresql_where=text("kind = 'class'"),
        ),
        # The same file uploaded again for the same class is the same import.
        Index("registration_import_same_file", "class_id", "content_sha256", unique=True),
    )


class RegistrationImportRow(Base):
    __tablename__ = "registration_import_row"

    import_id: Mapped[str] = mapped_column(ForeignKey("registration_import.id"), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)  # as Excel numbers it
    status: Mapped[str] = mapped_column(String(20))  # pending | registered | failed
    values: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the cells, by template header
    problems: Mapped[list[dict[str, str]]] = mapped_column(
        JSONB, default=list
    )  # column, reason_zh, reason_en
    student_id: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)  # e.g. temporary number: identity check failed

    __table_args__ = (
        Index(
            "registration_import_row_pending",
            "import_id",
            "row_number",
            postgresql_where=text("status = 'pending'"),
        ),
    )


IMPORT_ORG = OrgColumns(
    province=RegistrationImport.province_code,
    city=RegistrationImport.city_code,
    county=RegistrationImport.county_code,
    school=RegistrationImport.school_code,
)
