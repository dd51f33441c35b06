"""Looking a student up in another province before applying (跨省转学申请: 输入学生的姓名和全国学籍号,
点击"查询"). The question goes to the origin province; its answer shows only what the applicant
needs — name, masked ID, province, school, grade, status — and nothing when name and number
do not match."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from uuid6 import uuid7

from services.transfer.api.bodies import LookupBody
from services.transfer.api.common import PROBLEMS
from services.transfer.models import StudentLookup
from shared.auth import CurrentPrincipal, Role, require_role
from shared.events.common import StudentSummary
from shared.events.transfer import StudentLookupRequested
from shared.idnumber import mask_student_number
from shared.problems import field_problem, not_found
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["transfers"])


class LookupView(BaseModel):
    id: str
    origin_province: str
    student_number: str
    student_name: str
    answered: bool
    found: bool | None
    student: StudentSummary | None
    created_at: datetime
    answered_at: datetime | None


def _view(row: StudentLookup) -> LookupView:
    student = StudentSummary.model_validate(row.student_summary) if row.student_summary else None
    return LookupView(
        id=row.id,
        origin_province=row.origin_province,
        student_number=mask_student_number(row.student_number),
        student_name=row.student_name,
        answered=row.answered_at is not None,
        found=row.found,
        student=student,
        created_at=row.created_at,
        answered_at=row.answered_at,
    )


@router.post(
    "/transfers/lookups", status_code=202, summary="Ask another province who a student is", responses=PROBLEMS
)
async def look_up_student(body: LookupBody, principal: CurrentPrincipal, ctx: Context) -> LookupView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    if body.origin_province not in ctx.settings.partners:
        raise field_problem(
            "origin_province",
            f"province {body.origin_province} is not a partner",
            "该省份尚未与本省建立跨省数据交换",
        )
    row = StudentLookup(
        id=str(uuid7()),
        asked_by=principal.username,
        asker_org=principal.org,
        origin_province=body.origin_province,
        student_number=body.student_number,
        student_name=body.student_name,
    )
    async with ctx.uow() as uow:
        uow.session.add(row)
        uow.emit(
            StudentLookupRequested(
                lookup_id=row.id, student_number=row.student_number, student_name=row.student_name
            ),
            subject=row.id,
            to_province=row.origin_province,
        )
        await uow.session.flush()
        await uow.session.refresh(row)
        await uow.commit()
    return _view(row)


@router.get(
    "/transfers/lookups/{lookup_id}", summary="The answer to a look-up, once it came", responses=PROBLEMS
)
async def lookup_answer(lookup_id: str, principal: CurrentPrincipal, ctx: Context) -> LookupView:
    async with ctx.sessionmaker() as session:
        row = await session.get(StudentLookup, lookup_id)
    if row is None or row.asker_org != principal.org:
        raise not_found(f"look-up {lookup_id}")
    return _view(row)
