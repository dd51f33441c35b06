"""Graduation on the database: the pre-graduate list, submitting a graduation list, a level's
decision on it, and rolling back an issued graduation (issue 8 part 1). The rules are the
domain's (graduation_readiness, graduation_review, graduation_rollback); here they meet the read
models, the caller's jurisdiction and the unit of work. Refusals are problem details, raised on
the request path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.certificates.audit import record_audit
from services.certificates.domain.graduation_readiness import (
    MAX_STUDY_YEARS,
    OPEN_STATUSES,
    OUTCOME_ZH,
    Readiness,
    StudentFacts,
    graduation_readiness,
    outcome_refusals,
)
from services.certificates.domain.graduation_review import (
    DEFAULT_CHAIN,
    LEVEL_ZH,
    Approve,
    Level,
    ListReview,
    ListState,
    Return,
    TransitionNotAllowed,
    chain_for_list,
    may_decide,
    submitted,
    transition,
    valid_chain,
)
from services.certificates.domain.graduation_rollback import RollbackRefused, may_roll_back
from services.certificates.models import (
    GRADUATION_LIST_COLUMNS,
    Certificate,
    FiledStudent,
    GraduationChainConfig,
    GraduationEntry,
    GraduationList,
    GraduationReview,
    OpenProblemRecord,
    QualificationView,
    StudentView,
)
from services.certificates.printing.coverage import unprintable_characters
from shared.auth import Principal
from shared.bus.unit_of_work import UnitOfWork
from shared.events.certificates import GraduationOutcome, GraduationRolledBack
from shared.events.common import Lineage
from shared.jurisdiction import jurisdiction_filter
from shared.problems import FieldIssue, Problem, conflict, field_problem, not_found
from shared.readmodels import student_view_org_columns

CHAIN_BUSINESS = "graduation"
# Entry states (models.GraduationEntry): a live entry keeps the student off any other list.
LISTED, ISSUED, ROLLED_BACK, DROPPED = "listed", "issued", "rolled_back", "dropped"
LIVE_ENTRY_STATES = (LISTED, ISSUED)
STUDENT_COLUMNS = student_view_org_columns(StudentView)


class RuleRefused(Problem):
    """A refusal whose reason the domain states in both languages (403 or 409)."""

    def __init__(self, status: int, reason: str, reason_zh: str, *, slug: str) -> None:
        super().__init__(status, "Refused by rule", detail=reason, slug=slug)
        self.detail_zh = reason_zh

    def body(self, instance: str) -> dict[str, Any]:
        return {**super().body(instance), "detail_zh": self.detail_zh}


# --- the pre-graduate list ---------------------------------------------------------------------


@dataclass(frozen=True)
class PreGraduate:
    student: StudentView
    readiness: Readiness
    live_list_id: str | None  # the live graduation list the student is on already


async def pre_graduates(
    session: AsyncSession,
    visible: ColumnElement[bool],
    *,
    school_code: str,
    graduating_year: int,
    student_ids: Sequence[str] | None = None,
) -> list[PreGraduate]:
    """The school's students on the year's pre-graduate list, in student-number order: one query
    over the read models; who is listed and what blocks them, the domain decides.

    The query narrows to rows that can be listed at all (open records of any age — late
    graduations — and closed ones from the longest course's reach) so a school's whole history
    is not read every time. With ``student_ids``, every named student of the school is returned,
    listed or not (submission reports the unlisted ones)."""
    has_problem = exists().where(OpenProblemRecord.student_id == StudentView.student_id)
    intake = func.coalesce(FiledStudent.intake_year, StudentView.grade)
    live = (
        select(GraduationEntry.list_id)
        .where(
            GraduationEntry.student_id == StudentView.student_id, GraduationEntry.state.in_(LIVE_ENTRY_STATES)
        )
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(StudentView, FiledStudent.intake_year, QualificationView.year, has_problem, live)
        .outerjoin(FiledStudent, FiledStudent.student_id == StudentView.student_id)
        .outerjoin(
            QualificationView,
            and_(
                QualificationView.school_code == StudentView.school_code,
                QualificationView.major_code == StudentView.major_code,
                QualificationView.year == intake,
            ),
        )
        .where(StudentView.school_code == school_code, visible)
        .order_by(StudentView.student_number, StudentView.student_id)
    )
    if student_ids is None:
        query = query.where(
            StudentView.grade <= graduating_year,
            or_(
                StudentView.status.in_(OPEN_STATUSES), StudentView.grade >= graduating_year - MAX_STUDY_YEARS
            ),
        )
    else:
        query = query.where(StudentView.student_id.in_(student_ids))
    found = []
    for student, filed_year, qualification_year, problem, live_list_id in await session.execute(query):
        facts = StudentFacts(
            status=student.status,
            grade=student.grade,
            study_length=student.study_length,
            filed_intake_year=filed_year,
            qualification_filed=qualification_year is not None,
            open_problem_record=bool(problem),
            name_printable=not unprintable_characters(student.name),
        )
        readiness = graduation_readiness(facts, graduating_year)
        if readiness.listed or student_ids is not None:
            found.append(PreGraduate(student, readiness, live_list_id))
    return found


# --- the chain -----------------------------------------------------------------------------


async def configured_chain(session: AsyncSession) -> GraduationChainConfig | None:
    return await session.get(GraduationChainConfig, CHAIN_BUSINESS)


def chain_of(row: GraduationChainConfig | None) -> tuple[Level, ...]:
    return DEFAULT_CHAIN if row is None else valid_chain(row.levels)


# --- submitting a list -------------------------------------------------------------------------


@dataclass(frozen=True)
class ListedStudent:
    student_id: str
    outcome: GraduationOutcome


async def submit_list(
    uow: UnitOfWork, principal: Principal, graduating_year: int, entries: Sequence[ListedStudent]
) -> GraduationList:
    """The registrar's list for their school (principal.org); every entry checked, all refusals
    reported at once (422), a student already on a live list refused (409)."""
    session = uow.session
    school = principal.org
    ids = [e.student_id for e in entries]
    found = {
        p.student.student_id: p
        for p in await pre_graduates(
            session,
            jurisdiction_filter(principal, STUDENT_COLUMNS),
            school_code=school,
            graduating_year=graduating_year,
            student_ids=ids,
        )
    }
    issues = [issue for index, entry in enumerate(entries) if (issue := _entry_issue(index, entry, found))]
    if issues:
        raise Problem(
            422,
            "Students may not be listed",
            slug="graduation-entry-refused",
            detail="; ".join(f"{i.field}: {i.reason}" for i in issues),
            errors=issues,
        )
    taken = [
        (e.student_id, found[e.student_id].live_list_id) for e in entries if found[e.student_id].live_list_id
    ]
    if taken:
        raise _on_live_list(taken)
    first = found[ids[0]].student
    levels = chain_for_list(
        chain_of(await configured_chain(session)),
        has_late_graduation=any(found[i].readiness.late for i in ids),
    )
    review = submitted(levels)
    row = GraduationList(
        province=first.province_code,
        city=first.city_code,
        county=first.county_code,
        school_code=school,
        school_name=first.school_name,
        graduating_year=graduating_year,
        state=review.state.value,
        levels=list(review.levels),
        level_index=review.level_index,
        submitted_by=principal.username,
    )
    session.add(row)
    await session.flush()
    session.add_all(
        GraduationEntry(list_id=row.id, student_id=e.student_id, outcome=e.outcome, state=LISTED)
        for e in entries
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        # Another list took one of them between our check and this insert.
        raise conflict(
            "a student on this list is already on another live graduation list", slug="already-listed"
        ) from exc
    return row


def _entry_issue(index: int, entry: ListedStudent, found: dict[str, PreGraduate]) -> FieldIssue | None:
    field = f"entries[{index}].student_id"
    pre = found.get(entry.student_id)
    if pre is None:
        return FieldIssue(field, f"{entry.student_id} is not a student of your school", "不是本校学生")
    if not pre.readiness.listed:
        return FieldIssue(
            field,
            f"{entry.student_id} is not on the pre-graduate list of this year",
            "该学生不在本年度预毕业生名单中",
        )
    refusals = outcome_refusals(pre.readiness, entry.outcome)
    if refusals:
        return FieldIssue(
            field,
            f"{entry.student_id} may not be given {entry.outcome}: " + "; ".join(b.reason for b in refusals),
            f"该学生不能办理{OUTCOME_ZH[entry.outcome]}：" + "；".join(b.reason_zh for b in refusals),
        )
    return None


def _on_live_list(taken: list[tuple[str, str | None]]) -> Problem:
    named = ", ".join(f"{student} (list {list_id})" for student, list_id in taken)
    return RuleRefused(
        409,
        f"already on a live graduation list: {named}",
        f"以下学生已在审核中或已发证的毕业名单上：{named}",
        slug="already-listed",
    )


# --- a level's decision ------------------------------------------------------------------------


async def visible_list(
    session: AsyncSession, principal: Principal, list_id: str, *, lock: bool = False
) -> GraduationList:
    query = select(GraduationList).where(
        GraduationList.id == list_id, jurisdiction_filter(principal, GRADUATION_LIST_COLUMNS)
    )
    row = await session.scalar(query.with_for_update() if lock else query)
    if row is None:
        raise not_found(f"graduation list {list_id}")
    return row


def lineage_of(row: GraduationList) -> dict[str, str]:
    return {"province": row.province, "city": row.city, "county": row.county, "school": row.school_code}


def review_of(row: GraduationList) -> ListReview:
    return ListReview(ListState(row.state), valid_chain(row.levels), row.level_index)


async def decide(
    uow: UnitOfWork, principal: Principal, list_id: str, decision: Literal["approve", "return"], opinion: str
) -> GraduationList:
    """The pending level approves (the list goes up, or waits to be issued) or returns it (the
    list ends; its entries leave it so the school may submit again)."""
    session = uow.session
    row = await visible_list(session, principal, list_id, lock=True)
    review = review_of(row)
    level = review.pending_level
    if level is None:
        raise RuleRefused(
            409,
            f"the list is {row.state} and waits for no review",
            "该名单没有待审核环节",
            slug="transition-not-allowed",
        )
    if not may_decide(principal.role, principal.org, level, lineage_of(row)):
        raise RuleRefused(
            403,
            f"the list waits for the {level} review, which is not yours to do",
            f"该名单待{LEVEL_ZH[level]}审核，您无权审核",
            slug="not-your-level",
        )
    if decision == "return" and not opinion.strip():
        raise field_problem("opinion", "a return needs an opinion", "退回须填写审核意见")
    try:
        after = transition(review, Approve(level) if decision == "approve" else Return(level))
    except TransitionNotAllowed as refusal:
        raise RuleRefused(409, refusal.reason, refusal.reason_zh, slug="transition-not-allowed") from refusal
    row.state = after.state.value
    row.level_index = after.level_index
    if after.state is not ListState.UNDER_REVIEW:
        row.decided_at = datetime.now(UTC)
    session.add(
        GraduationReview(
            list_id=row.id,
            level=level,
            decision=decision,
            opinion=opinion.strip(),
            actor_id=principal.account_id,
            actor_name=principal.username,
        )
    )
    if after.state is ListState.RETURNED:
        await session.execute(
            update(GraduationEntry)
            .where(GraduationEntry.list_id == row.id, GraduationEntry.state == LISTED)
            .values(state=DROPPED)
        )
    await session.flush()
    return row


# --- rolling back ------------------------------------------------------------------------------


async def roll_back(
    uow: UnitOfWork, principal: Principal, student_id: str, reason: str, today: date
) -> Certificate:
    """Undo the student's issued graduation: the certificate void, the entry rolled back, and
    ``GraduationRolledBack`` for enrollment (the record returns to in school) in the same unit."""
    session = uow.session
    found = (
        await session.execute(
            select(GraduationEntry, GraduationList)
            .join(GraduationList, GraduationList.id == GraduationEntry.list_id)
            .where(
                GraduationEntry.student_id == student_id,
                jurisdiction_filter(principal, GRADUATION_LIST_COLUMNS),
            )
            .order_by((GraduationEntry.state == ISSUED).desc(), GraduationList.submitted_at.desc())
            .limit(1)
            .with_for_update(of=GraduationEntry)
        )
    ).first()
    if found is None:
        student_visible = await session.scalar(
            select(StudentView.student_id).where(
                StudentView.student_id == student_id, jurisdiction_filter(principal, STUDENT_COLUMNS)
            )
        )
        if student_visible is None:
            raise not_found(f"student {student_id}")
        raise _not_graduated(student_id)
    entry, listed = found
    if entry.state != ISSUED:
        raise _not_graduated(student_id)
    certificate = await session.scalar(
        select(Certificate)
        .where(
            Certificate.id == entry.certificate_id
            if entry.certificate_id
            else and_(Certificate.entry_id == entry.id, Certificate.kind == "graduation")
        )
        .with_for_update()
    )
    if certificate is None:
        raise _not_graduated(student_id)
    graduated_on = entry.graduated_on or certificate.issued_on
    try:
        level = may_roll_back(principal.role, graduated_on, today, reason)
    except RollbackRefused as refusal:
        raise RuleRefused(403, refusal.reason, refusal.reason_zh, slug="rollback-refused") from refusal
    now = datetime.now(UTC)
    reason = reason.strip()
    certificate.status = "voided"
    certificate.voided_at = now
    certificate.voided_by = principal.username
    certificate.void_reason = reason
    entry.state = ROLLED_BACK
    entry.rolled_back_at = now
    entry.rolled_back_by = principal.username
    entry.rollback_reason = reason
    uow.emit(
        GraduationRolledBack(
            student_id=student_id,
            lineage=Lineage.model_validate(lineage_of(listed)),
            graduation_list_id=listed.id,
            certificate_number=certificate.number,
            reason=reason,
            rolled_back_by_level=level,
        ),
        subject=student_id,
    )
    await record_audit(
        session,
        principal,
        "graduation.rolled_back",
        certificate.number,
        {
            "student_id": student_id,
            "graduated_on": graduated_on.isoformat(),
            "level": level,
            "reason": reason,
        },
    )
    return certificate


def _not_graduated(student_id: str) -> Problem:
    return RuleRefused(
        409,
        f"student {student_id} has no issued graduation to roll back",
        "该学生没有可撤销的毕业",
        slug="not-graduated",
    )
