"""What closing a round does (issue 5, item 5; seed 001 三.4 "到达限定时间，此次核验截止"):

1. every student eligible when it closes and without a valid check-in (正常 or 正在实习) gets a
   ``miss`` row — set-wise, one INSERT … SELECT, because a province-wide round concerns hundreds
   of thousands of students;
2. the miss rules (domain/miss_rules.py) run for the students who just missed and now have two
   or more misses in the term; each firing is a ``miss_prompt`` and a ``MissThresholdReached``;
3. ``RoundClosed`` with the counts.

All of it runs in the caller's unit of work, with the round's state change. Closings and appeal
decisions of one term take the same advisory lock (``lock_term_misses``): the rules read the
whole term, and two rounds closing at once must not each miss the other's misses.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    String,
    Uuid,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from services.checkin.domain.fm4 import VALID_RESULTS
from services.checkin.domain.miss_rules import MissRule, Prompt, RoundOutcome, prompts_due
from services.checkin.models import Miss, MissPrompt, Round, RoundAttendance, StudentView
from services.checkin.round_lists import eligible_for
from shared.bus.unit_of_work import UnitOfWork
from shared.events.checkin import MissThresholdReached, RoundClosed


def since_last_move(
    student_id: QueryableAttribute[str], ends_at: QueryableAttribute[datetime]
) -> ColumnElement[bool]:
    """A round that ended after the student's last transfer (or any round, never moved): what
    came before belongs to the old school (DOMAIN.md "Transfers": misses start anew)."""
    return ~exists().where(
        StudentView.student_id == student_id,
        StudentView.counting_since.is_not(None),
        ends_at <= StudentView.counting_since,
    )


async def lock_term_misses(session: AsyncSession, term: str) -> None:
    """Serialise, until commit, everything that reads or changes one term's misses and prompts."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"checkin.misses:{term}"}
    )


@dataclass(frozen=True)
class RaisedPrompt:
    id: uuid.UUID
    student_id: str
    school_code: str
    rule: MissRule
    round_ids: tuple[str, ...]


@dataclass(frozen=True)
class Closed:
    eligible: int
    completed: int
    missed: int
    prompts: list[RaisedPrompt]


async def record_misses(uow: UnitOfWork, round_row: Round) -> Closed:
    """Steps 1–3 above for a round the caller has locked and is closing."""
    session = uow.session
    await lock_term_misses(session, round_row.term)
    # Fresh planner statistics for the one big statement of a closing: a round's check-ins
    # arrive in a rush, and a table the planner still believes tiny gets a nested loop that
    # scans it once per student (minutes at 100k students instead of about a second). Once per
    # round, and cheap: ANALYZE reads a fixed-size sample.
    await session.execute(text("ANALYZE round_attendance, student_view, leave"))
    completed = (
        exists()
        .where(
            RoundAttendance.round_id == round_row.id,
            RoundAttendance.student_id == StudentView.student_id,
            RoundAttendance.result.in_(VALID_RESULTS),
        )
        .label("completed")
    )
    eligible = (
        select(StudentView.student_id, StudentView.school_code, completed)
        .where(eligible_for(round_row))
        .cte("eligible")
    )
    inserted = (
        insert(Miss)
        .from_select(
            ["round_id", "student_id", "school_code", "term", "round_ends_at", "excused"],
            select(
                literal(round_row.id, Uuid()),
                eligible.c.student_id,
                eligible.c.school_code,
                literal(round_row.term, String()),
                literal(round_row.ends_at, DateTime(timezone=True)),
                false(),
            ).where(~eligible.c.completed),
        )
        .on_conflict_do_nothing()
        .returning(Miss.student_id)
        .cte("inserted")
    )
    counts = (
        await session.execute(
            select(
                select(func.count()).select_from(eligible).scalar_subquery(),
                select(func.count()).select_from(eligible).where(eligible.c.completed).scalar_subquery(),
                select(func.count()).select_from(inserted).scalar_subquery(),
            )
        )
    ).one()
    prompts = await raise_prompts(uow, round_row)
    uow.emit(
        RoundClosed(round_id=str(round_row.id), eligible=counts[0], completed=counts[1], missed=counts[2]),
        subject=str(round_row.id),
    )
    return Closed(eligible=counts[0], completed=counts[1], missed=counts[2], prompts=prompts)


async def raise_prompts(uow: UnitOfWork, round_row: Round) -> list[RaisedPrompt]:
    """The miss rules for the students who missed ``round_row`` (only a new miss can make a rule
    fire) and have at least two counting misses in its term (no rule fires on fewer)."""
    session = uow.session
    term = round_row.term
    counting = (
        select(Miss.student_id)
        .where(
            Miss.term == term,
            Miss.excused.is_(False),
            Miss.student_id.in_(select(Miss.student_id).where(Miss.round_id == round_row.id)),
            since_last_move(Miss.student_id, Miss.round_ends_at),
        )
        .group_by(Miss.student_id)
        .having(func.count() >= 2)
        .cte("affected")
    )
    histories = await term_histories(session, term, select(counting.c.student_id), closing=round_row.id)
    if not histories:
        return []
    open_prompts = await open_prompts_of(session, term, select(counting.c.student_id))
    schools = dict(
        (
            await session.execute(
                select(Miss.student_id, Miss.school_code).where(
                    Miss.round_id == round_row.id, Miss.student_id.in_(select(counting.c.student_id))
                )
            )
        )
        .tuples()
        .all()
    )
    raised = [
        RaisedPrompt(uuid.uuid4(), student_id, schools[student_id], due.rule, due.round_ids)
        for student_id, history in histories.items()
        for due in prompts_due(history, open_prompts.get(student_id, ()))
    ]
    if raised:
        await session.execute(
            insert(MissPrompt),
            [
                {
                    "id": p.id,
                    "student_id": p.student_id,
                    "school_code": p.school_code,
                    "term": term,
                    "rule": p.rule.value,
                    "round_ids": list(p.round_ids),
                    "state": "open",
                }
                for p in raised
            ],
        )
    for p in raised:
        uow.emit(
            MissThresholdReached(
                prompt_id=str(p.id),
                student_id=p.student_id,
                school_code=p.school_code,
                term=term,
                rule=p.rule.value,
                missed_round_ids=list(p.round_ids),
            ),
            subject=p.student_id,
        )
    return raised


async def term_histories(
    session: AsyncSession, term: str, students: Any, *, closing: uuid.UUID | None = None
) -> dict[str, list[RoundOutcome]]:
    """Each student's rounds of ``term`` since their last transfer (miss_rules.py: the rounds
    they missed or completed), ordered by end time. ``students`` is a SELECT of student ids;
    ``closing`` a round being closed in this transaction, counted as closed already."""
    closed = Round.state == "closed" if closing is None else or_(Round.state == "closed", Round.id == closing)
    missed = select(
        Miss.student_id,
        Miss.round_id,
        Miss.round_ends_at.label("ends_at"),
        literal(True, Boolean()).label("missed"),
        Miss.excused,
    ).where(
        Miss.term == term,
        Miss.student_id.in_(students),
        since_last_move(Miss.student_id, Miss.round_ends_at),
    )
    came = (
        select(
            RoundAttendance.student_id,
            RoundAttendance.round_id,
            Round.ends_at,
            literal(False, Boolean()).label("missed"),
            literal(False, Boolean()).label("excused"),
        )
        .join(Round, Round.id == RoundAttendance.round_id)
        .where(
            Round.term == term,
            closed,
            RoundAttendance.result.in_(VALID_RESULTS),
            RoundAttendance.student_id.in_(students),
            since_last_move(RoundAttendance.student_id, Round.ends_at),
        )
    )
    both = union_all(missed, came).subquery()
    result = await session.execute(
        select(both.c.student_id, both.c.round_id, both.c.ends_at, both.c.missed, both.c.excused).order_by(
            both.c.student_id, both.c.ends_at, both.c.round_id
        )
    )
    seen: dict[str, dict[str, tuple[datetime, RoundOutcome]]] = defaultdict(dict)
    for student_id, round_id, ends_at, was_missed, excused in result.tuples():
        key = str(round_id)
        # A miss stands even if a face result made the attempt valid after the round closed.
        if key in seen[student_id] and not was_missed:
            continue
        seen[student_id][key] = (ends_at, RoundOutcome(key, missed=was_missed, excused=excused))
    return {
        student: [outcome for _, outcome in sorted(rounds.values(), key=lambda p: (p[0], p[1].round_id))]
        for student, rounds in seen.items()
    }


async def open_prompts_of(session: AsyncSession, term: str, students: Any) -> dict[str, list[Prompt]]:
    """Open prompts per student of ``term``; ``students`` is a SELECT of student ids."""
    result = await session.execute(
        select(MissPrompt.student_id, MissPrompt.rule, MissPrompt.round_ids).where(
            MissPrompt.term == term, MissPrompt.state == "open", MissPrompt.student_id.in_(students)
        )
    )
    prompts: dict[str, list[Prompt]] = defaultdict(list)
    for student_id, rule, round_ids in result.tuples():
        prompts[student_id].append(Prompt(MissRule(rule), tuple(round_ids)))
    return prompts
