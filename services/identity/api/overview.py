"""学生账号管理 (seed 000): per student account state and face captured yes/no, with filters, an
xlsx export and statistics per class. Every query carries the caller's jurisdiction."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from openpyxl import Workbook
from pydantic import BaseModel, Field
from sqlalchemy import Select, case, func, or_, select

from services.identity.api.common import OwnPrincipal
from services.identity.domain.account_state import AccountState
from services.identity.models import Account, FaceConsent, FaceTemplate, account_org_columns
from shared.auth import Principal, Role, require_role
from shared.idnumber import mask_student_number
from shared.jurisdiction import REGION_CODE_PATTERN, jurisdiction_filter, within
from shared.service import Context
from shared.xlsx import safe_cells

router = APIRouter(tags=["student accounts"])
VIEWERS = (Role.PROVINCE, Role.CITY, Role.COUNTY, Role.SCHOOL_REGISTRAR, Role.SCHOOL_LEADER, Role.COUNSELOR)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 50_000


class Filters(BaseModel):
    region: str | None = Field(None, pattern=REGION_CODE_PATTERN, description="province, city or county code")
    school_code: str | None = Field(None, pattern=r"^[0-9]{10}$")
    class_id: str | None = Field(None, max_length=40)
    status: AccountState | None = None
    face_captured: bool | None = None
    search: str | None = Field(None, min_length=1, max_length=64, description="name or student number prefix")


def _filters(
    region: Annotated[str | None, Query(pattern=REGION_CODE_PATTERN)] = None,
    school_code: Annotated[str | None, Query(pattern=r"^[0-9]{10}$")] = None,
    class_id: Annotated[str | None, Query(max_length=40)] = None,
    status: AccountState | None = None,
    face_captured: bool | None = None,
    search: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> Filters:
    return Filters(
        region=region,
        school_code=school_code,
        class_id=class_id,
        status=status,
        face_captured=face_captured,
        search=search,
    )


FilterParams = Annotated[Filters, Depends(_filters)]


def _query(principal: Principal, f: Filters) -> Select[Any]:
    require_role(principal, *VIEWERS)
    query = (
        select(Account, FaceTemplate.captured_at, FaceTemplate.possible_proxy_of, FaceConsent.decision)
        .outerjoin(FaceTemplate, FaceTemplate.account_id == Account.id)
        .outerjoin(FaceConsent, FaceConsent.account_id == Account.id)
        .where(Account.role == Role.STUDENT.value, jurisdiction_filter(principal, account_org_columns()))
    )
    # Narrowing only: the jurisdiction filter above still bounds what the caller sees.
    if f.region:
        query = query.where(within(account_org_columns(), f.region))
    if f.school_code:
        query = query.where(Account.school_code == f.school_code)
    if f.class_id:
        query = query.where(Account.class_id == f.class_id)
    if f.status:
        query = query.where(Account.status == f.status.value)
    if f.face_captured is not None:
        query = query.where(
            FaceTemplate.account_id.is_not(None) if f.face_captured else FaceTemplate.account_id.is_(None)
        )
    if f.search:
        escaped = f.search.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(
            or_(Account.display_name.like(f"{escaped}%"), Account.username.like(f"{escaped}%"))
        )
    return query.order_by(Account.school_code, Account.class_id, Account.username)


class StudentAccountRow(BaseModel):
    account_id: str
    student_id: str
    student_number: str
    name: str
    school_code: str | None
    class_id: str | None
    status: AccountState
    phone_masked: str | None
    face_consent: Literal["granted", "declined"] | None
    face_captured: bool
    face_captured_at: datetime | None
    possible_proxy: bool


def _row(
    account: Account, captured_at: datetime | None, proxy_of: str | None, consent: str | None
) -> StudentAccountRow:
    phone = account.phone
    return StudentAccountRow(
        account_id=str(account.id),
        student_id=account.student_id or "",
        # A formal number is "G" + the ID number: masked like the ID, in the list and its export.
        student_number=mask_student_number(account.username),
        name=account.display_name,
        school_code=account.school_code,
        class_id=account.class_id,
        status=AccountState(account.status),
        phone_masked=f"{phone[:3]}****{phone[-4:]}" if phone else None,
        face_consent=consent,
        face_captured=captured_at is not None,
        face_captured_at=captured_at,
        possible_proxy=proxy_of is not None,
    )


@router.get("/api/v1/student-accounts", summary="Student accounts: state and face captured, filtered")
async def list_student_accounts(
    principal: OwnPrincipal,
    ctx: Context,
    f: FilterParams,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[StudentAccountRow]:
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(_query(principal, f).limit(limit).offset(offset))).all()
    return [_row(*r) for r in rows]


HEADERS = [
    "学号 student number",
    "姓名 name",
    "学校 school",
    "班级 class",
    "帐户状态 state",
    "手机 phone",
    "人脸授权 consent",
    "已采集人脸 face captured",
    "疑似代理 possible proxy",
]


@router.get(
    "/api/v1/student-accounts/export.xlsx", summary="The same list as an Excel file", response_class=Response
)
async def export_student_accounts(principal: OwnPrincipal, ctx: Context, f: FilterParams) -> Response:
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(_query(principal, f).limit(EXPORT_LIMIT))).all()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("学生账号")
    sheet.append(HEADERS)
    for r in rows:
        row = _row(*r)
        sheet.append(
            safe_cells(
                [
                    row.student_number,
                    row.name,
                    row.school_code,
                    row.class_id,
                    row.status.value,
                    row.phone_masked,
                    row.face_consent or "",
                    "是" if row.face_captured else "否",
                    "是" if row.possible_proxy else "否",
                ]
            )
        )
    out = io.BytesIO()
    book.save(out)
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="student-accounts.xlsx"'},
    )


class ClassStatistics(BaseModel):
    school_code: str | None
    class_id: str | None
    students: int
    activated: int
    face_captured: int
    face_declined: int
    possible_proxies: int


@router.get("/api/v1/student-accounts/statistics", summary="Per class: activated and face captured")
async def student_account_statistics(
    principal: OwnPrincipal, ctx: Context, f: FilterParams
) -> list[ClassStatistics]:
    base = _query(principal, f).order_by(None).subquery()
    query = (
        select(
            base.c.school_code,
            base.c.class_id,
            func.count().label("students"),
            func.count(case((base.c.status == AccountState.ACTIVE.value, 1))).label("activated"),
            func.count(base.c.captured_at).label("face_captured"),
            func.count(case((base.c.decision == "declined", 1))).label("face_declined"),
            func.count(base.c.possible_proxy_of).label("possible_proxies"),
        )
        .group_by(base.c.school_code, base.c.class_id)
        .order_by(base.c.school_code, base.c.class_id)
    )
    async with ctx.sessionmaker() as session:
        rows = (await session.execute(query)).all()
    return [ClassStatistics(**r._mapping) for r in rows]
