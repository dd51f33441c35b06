from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from services.certificates.models import StudentView
from shared.auth import CurrentPrincipal
from shared.jurisdiction import jurisdiction_filter
from shared.problems import not_found
from shared.readmodels import student_view_org_columns
from shared.service import Context

router = APIRouter(prefix="/api/v1", tags=["graduands"])


@router.get("/students/{student_id}", summary="A student as certificates knows them (read model)")
async def get_student_view(student_id: str, principal: CurrentPrincipal, ctx: Context) -> dict[str, Any]:
    async with ctx.sessionmaker() as session:
        row = await session.scalar(
            select(StudentView).where(
                StudentView.student_id == student_id,
                jurisdiction_filter(principal, student_view_org_columns(StudentView)),
            )
        )
    if row is None:
        raise not_found(f"student {student_id}")
    return {
        "student_id": row.student_id,
        "student_number": row.student_number,
        "name": row.name,
        "id_number_masked": row.id_number_masked,
        "school_code": row.school_code,
        "school_name": row.school_name,
        "grade": row.grade,
        "status": row.status,
        "updated_at": row.updated_at.isoformat(),
    }
