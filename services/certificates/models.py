from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.readmodels import StudentViewMixin


class Base(DeclarativeBase):
    pass


class StudentView(StudentViewMixin, Base):
    """A student as enrollment last described them: the input of pre-graduation checks."""
