"""Applying for transfers: one student of any kind, or a batch inside the province.

An application is one unit of work: the case row (the one-open-case index refuses a second
case for the student), its first timeline line, the checks asked of enrollment here and, across
provinces, the opened case sent to the origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter
from sqlalchemy.exc import IntegrityError
from uuid6 import uuid7

from services.transfer.api.bodies import ApplyBody, BatchBody, BatchStudent
from services.transfer.api.common import PROBLEMS, actor_of, evidence_refs
from services.transfer.api.views import CaseListView, CaseView, case_summary, case_view
from services.transfer.domain.case_copy import StepInput, apply_line, open_case
from services.transfer.domain.kind_rules import KindRules
from services.transfer.domain.kinds import KINDS, ChainNotAllowed, chain_for
from services.transfer.domain.review_levels import ReviewLevel
from services.transfer.models import OPEN_CASE_INDEX, ChainConfig, SchoolView, TransferCase
from services.transfer.overdue import calendar
from services.transfer.steps import add_lines, copy_columns, timeline_of
from shared.auth import CurrentPrincipal, Principal, Role, require_role
from shared.bus.unit_of_work import UnitOfWork
from shared.events.common import Lineage
from shared.events.transfer import CaseOpened, EvidenceRef, TransferKind, TransferRequested
from shared.problems import conflict, field_problem
from shared.service import Context, ServiceContext

router = APIRouter(prefix="/api/v1", tags=["transfers"])


@dataclass(frozen=True)
class Sides:
    """Where the student leaves from and goes to, as far as this province knows at applying."""

    origin_province: str
    origin_school: SchoolView | None  # a partner's school is unknown until its check
    destination: SchoolView


def _lineage(school: SchoolView) -> Lineage:
    return Lineage(
        province=school.province, city=school.city, county=school.county, school=school.school_code
    )


async def _own_school(uow: UnitOfWork, principal: Principal, province: str) -> SchoolView:
    school = await uow.session.get(SchoolView, principal.org)
    if school is None or school.province != province:
        raise field_problem(
            "school",
            f"school {principal.org} is not registered in province {province}",
            "本校尚未在本省学籍系统中注册",
        )
    return school


async def _sides(
    uow: UnitOfWork, rules: KindRules, body: ApplyBody | BatchBody, principal: Principal, ctx: ServiceContext
) -> Sides:
    here = ctx.settings.province
    own = await _own_school(uow, principal, here)
    if rules.crosses_provinces:
        origin_province = body.origin_province if isinstance(body, ApplyBody) else None
        if origin_province is None:
            raise field_problem("origin_province", "required across provinces", "跨省业务须填写转出省")
        if origin_province == here:
            raise field_problem(
                "origin_province",
                "must be another province than this one",
                "转出省不能是本省（省内转学另行办理）",
            )
        if origin_province not in ctx.settings.partners:
            raise field_problem(
                "origin_province",
                f"province {origin_province} is not a partner this province exchanges records with",
                "该省份尚未与本省建立跨省转学数据交换",
            )
        return Sides(origin_province, None, own)
    if body.destination_school is None:
        raise field_problem("destination_school", "required inside the province", "省内转学须填写转入学校")
    destination = await uow.session.get(SchoolView, body.destination_school)
    if destination is None or destination.province != here:
        raise field_problem(
            "destination_school",
            f"no school {body.destination_school} in province {here}",
            "转入学校在本省不存在",
        )
    if destination.school_code == own.school_code:
        raise field_problem("destination_school", "must be another school", "转入学校不能是本校")
    if not body.evidence_ids:
        raise field_problem(
            "evidence_ids", "the student's handwritten request is required", "须上传学生本人书写的转学申请"
        )
    return Sides(here, own, destination)


async def _configured(uow: UnitOfWork, kind: TransferKind) -> list[ReviewLevel] | None:
    row = await uow.session.get(ChainConfig, kind.value)
    return [ReviewLevel(level) for level in row.levels] if row else None


async def _open(
    uow: UnitOfWork,
    *,
    rules: KindRules,
    sides: Sides,
    student: BatchStudent,
    class_id: str | None,
    reason: str,
    evidence: tuple[EvidenceRef, ...],
    principal: Principal,
    batch: tuple[str, int] | None,
) -> TransferCase:
    here = sides.destination.province if rules.crosses_provinces else sides.origin_province
    origin = sides.origin_school
    try:
        chain = chain_for(
            rules,
            await _configured(uow, rules.kind),
            crosses_cities=origin is not None and origin.city != sides.destination.city,
            batch_size=batch[1] if batch else 1,
        )
    except ChainNotAllowed as exc:  # a configuration written before a rule changed
        raise conflict(f"the configured chain cannot run: {exc}", slug="chain-not-allowed") from exc
    now = datetime.now(UTC)
    transfer_id = str(uuid7())
    first_line = apply_line(
        chain,
        StepInput(
            step_id=str(uuid7()),
            actor=actor_of(principal),
            at=now.isoformat(),
            opinion=reason,
            evidence=evidence,
        ),
    )
    copy = open_case(
        transfer_id=transfer_id,
        kind=rules.kind,
        here=here,
        origin_province=sides.origin_province,
        dest_province=sides.destination.province,
        chain=chain,
        apply_line=first_line,
    )
    destination = sides.destination
    case = TransferCase(
        id=transfer_id,
        kind=rules.kind.value,
        chain=[level.value for level in chain],
        pending_since=now,
        batch_id=batch[0] if batch else None,
        student_number=student.student_number,
        student_name=student.student_name,
        origin_province=sides.origin_province,
        origin_city=origin.city if origin else None,
        origin_county=origin.county if origin else None,
        origin_school=origin.school_code if origin else None,
        origin_school_name=origin.name if origin else None,
        dest_province=destination.province,
        dest_city=destination.city,
        dest_county=destination.county,
        dest_school=destination.school_code,
        dest_school_name=destination.name,
        dest_class_id=class_id,
        grade=student.grade,
        reason=reason,
        created_at=now,
        updated_at=now,
        **copy_columns(copy),
    )
    uow.session.add(case)
    try:
        async with uow.session.begin_nested():
            await uow.session.flush()
    except IntegrityError as exc:
        if OPEN_CASE_INDEX in str(exc):
            raise conflict(
                f"student {student.student_number} already has a transfer under way", slug="transfer-open"
            ) from exc
        raise
    await add_lines(uow.session, transfer_id, copy.lines)
    correlation = UUID(transfer_id)
    uow.emit(
        TransferRequested(
            transfer_id=transfer_id,
            kind=rules.kind.value,
            student_number=case.student_number,
            student_name=case.student_name,
            origin_province=case.origin_province,
            destination=_lineage(destination),
            destination_class_id=class_id,
            grade=case.grade,
            check_origin=not rules.crosses_provinces,
            check_destination=True,
        ),
        subject=transfer_id,
        correlation_id=correlation,
    )
    if rules.crosses_provinces:
        uow.emit(
            CaseOpened(
                transfer_id=transfer_id,
                kind=rules.kind.value,
                chain=case.chain,
                student_number=case.student_number,
                student_name=case.student_name,
                origin_province=case.origin_province,
                destination=_lineage(destination),
                destination_school_name=destination.name,
                destination_class_id=class_id,
                grade=case.grade,
                reason=reason,
                applicant=first_line.actor,
                applied_at=first_line.at,
                apply_line=first_line,
            ),
            subject=transfer_id,
            correlation_id=correlation,
            to_province=case.origin_province,
        )
    return case


@router.post("/transfers", status_code=201, summary="Apply for a transfer of one student", responses=PROBLEMS)
async def apply_for_transfer(body: ApplyBody, principal: CurrentPrincipal, ctx: Context) -> CaseView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    rules = KINDS[body.kind]
    async with ctx.uow() as uow:
        sides = await _sides(uow, rules, body, principal, ctx)
        case = await _open(
            uow,
            rules=rules,
            sides=sides,
            student=BatchStudent(
                student_number=body.student_number, student_name=body.student_name, grade=body.grade
            ),
            class_id=body.destination_class_id,
            reason=body.reason,
            evidence=await evidence_refs(uow.session, body.evidence_ids, principal),
            principal=principal,
            batch=None,
        )
        entries = await timeline_of(uow.session, case.id)
        await uow.commit()
    return case_view(case, entries, calendar(ctx))


@router.post(
    "/transfers/batches",
    status_code=201,
    summary="Apply for a batch of students moving between two schools of the province",
    responses=PROBLEMS,
)
async def apply_for_batch(body: BatchBody, principal: CurrentPrincipal, ctx: Context) -> CaseListView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    rules = KINDS[body.kind]
    if rules.crosses_provinces:
        raise field_problem("kind", "batches move students inside the province", "批量转学仅限省内")
    numbers = [s.student_number for s in body.students]
    if len(set(numbers)) != len(numbers):
        raise field_problem("students", "a student appears twice", "同一学生重复出现")
    batch_id = str(uuid7())
    async with ctx.uow() as uow:
        sides = await _sides(uow, rules, body, principal, ctx)
        evidence = await evidence_refs(uow.session, body.evidence_ids, principal)
        cases = [
            await _open(
                uow,
                rules=rules,
                sides=sides,
                student=student,
                class_id=body.destination_class_id,
                reason=body.reason,
                evidence=evidence,
                principal=principal,
                batch=(batch_id, len(body.students)),
            )
            for student in body.students
        ]
        await uow.commit()
    return CaseListView(items=[case_summary(case, calendar(ctx)) for case in cases], total=len(cases))
