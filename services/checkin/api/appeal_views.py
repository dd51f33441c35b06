"""How appeals and miss prompts read: with the student's name and masked number and the missed
rounds by name, so a registrar can act on a row without looking each id up (the console shows
them as they come)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.checkin.domain.miss_rules import MissRule
from services.checkin.models import Appeal, MissPrompt, Round, StudentView
from shared.idnumber import mask_student_number


class MissedRound(BaseModel):
    id: str
    name: str
    ends_at: datetime | None = Field(description="None: the round is not known here any more")


class StudentNamed(BaseModel):
    student_id: str
    student_name: str = Field(description="empty when the student has left this province's roll")
    student_number_masked: str


class AppealOut(StudentNamed):
    id: uuid.UUID
    school_code: str
    county_code: str
    appellant: str = Field(description="student | school")
    prompt_id: uuid.UUID | None
    round_ids: list[str]
    rounds: list[MissedRound]
    reason: str
    state: str
    decided_by: str | None
    opinion: str | None
    decided_on: date | None
    created_at: datetime | None
    withdrawn_prompt_ids: list[uuid.UUID] = Field(
        default_factory=list, description="on acceptance: the prompts withdrawn with it"
    )


class PromptOut(StudentNamed):
    id: uuid.UUID
    school_code: str
    term: str
    rule: str = Field(description="two_consecutive | four_cumulative")
    rule_text: str = Field(description="the rule as the seed words it")
    round_ids: list[str]
    rounds: list[MissedRound]
    state: str = Field(description="open | withdrawn")
    created_at: datetime | None


class AppealPage(BaseModel):
    total: int
    items: list[AppealOut]


class PromptPage(BaseModel):
    total: int
    items: list[PromptOut]


class Described:
    """The names behind a batch of rows' student and round ids, read in two queries."""

    def __init__(self, students: dict[str, StudentView], rounds: dict[str, Round]) -> None:
        self._students = students
        self._rounds = rounds

    @classmethod
    async def load(cls, session: AsyncSession, rows: Sequence[Appeal | MissPrompt]) -> Described:
        student_ids = {row.student_id for row in rows}
        round_ids = {uuid.UUID(r) for row in rows for r in row.round_ids}
        students = await session.scalars(select(StudentView).where(StudentView.student_id.in_(student_ids)))
        rounds = await session.scalars(select(Round).where(Round.id.in_(round_ids)))
        return cls({s.student_id: s for s in students}, {str(r.id): r for r in rounds})

    def student(self, student_id: str) -> StudentNamed:
        found = self._students.get(student_id)
        return StudentNamed(
            student_id=student_id,
            student_name=found.name if found else "",
            student_number_masked=mask_student_number(found.student_number) if found else "",
        )

    def rounds(self, round_ids: Iterable[str]) -> list[MissedRound]:
        described = []
        for round_id in round_ids:
            found = self._rounds.get(round_id)
            if found is None:
                described.append(MissedRound(id=round_id, name=round_id, ends_at=None))
            else:
                described.append(MissedRound(id=round_id, name=found.name, ends_at=found.ends_at))
        return described

    def appeal(self, row: Appeal, withdrawn: list[uuid.UUID] | None = None) -> AppealOut:
        return AppealOut(
            **self.student(row.student_id).model_dump(),
            id=row.id,
            school_code=row.school_code,
            county_code=row.county_code,
            appellant=row.appellant,
            prompt_id=row.prompt_id,
            round_ids=list(row.round_ids),
            rounds=self.rounds(row.round_ids),
            reason=row.reason,
            state=row.state,
            decided_by=row.decided_by,
            opinion=row.opinion,
            decided_on=row.decided_on,
            created_at=row.created_at,
            withdrawn_prompt_ids=withdrawn or [],
        )

    def prompt(self, row: MissPrompt) -> PromptOut:
        return PromptOut(
            **self.student(row.student_id).model_dump(),
            id=row.id,
            school_code=row.school_code,
            term=row.term,
            rule=row.rule,
            rule_text=MissRule(row.rule).text,
            round_ids=list(row.round_ids),
            rounds=self.rounds(row.round_ids),
            state=row.state,
            created_at=row.created_at,
        )


async def described_appeal(
    session: AsyncSession, row: Appeal, withdrawn: list[uuid.UUID] | None = None
) -> AppealOut:
    return (await Described.load(session, [row])).appeal(row, withdrawn)


Listed = TypeVar("Listed", Appeal, MissPrompt)


async def newest_first(
    session: AsyncSession, model: type[Listed], query: Select[tuple[Listed]], limit: int, offset: int
) -> tuple[int, list[Listed], Described]:
    """One page of ``query``'s rows, newest first (what a registrar acts on), with their count
    and their names."""
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(model.created_at.desc(), model.id).limit(limit).offset(offset)
    rows = list(await session.scalars(ordered))
    return total, rows, await Described.load(session, rows)
