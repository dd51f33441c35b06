"""Accounts: one's own, those in one's jurisdiction; creating counselor and registrar accounts,
assigning counselors, resetting passwords to one-time passwords, cancelling accounts."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from opentelemetry import trace
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from uuid6 import uuid7

from services.identity import sessions
from services.identity.api.common import OwnPrincipal
from services.identity.audit import AuditKind, record
from services.identity.domain.account_management import may_create, may_manage
from services.identity.domain.account_state import AccountState
from services.identity.domain.one_time_password import one_time_password
from services.identity.models import Account, account_org_columns
from services.identity.passwords import hash_password
from shared.auth import Principal, Role, require_role
from shared.events.common import Lineage
from shared.events.identity import CounselorAssigned
from shared.jurisdiction import jurisdiction_filter, may_see
from shared.problems import conflict, field_problem, forbidden, not_found
from shared.service import Context
from shared.telemetry import ATTR_ACCOUNT_ID, ATTR_STUDENT_ID

tracer = trace.get_tracer("xueji.identity")
router = APIRouter(tags=["accounts"])


class AccountView(BaseModel):
    id: UUID
    username: str
    role: Role
    org_code: str
    province: str
    display_name: str
    student_id: str | None
    status: AccountState
    lineage: Lineage | None  # students only: the school the account belongs to
    created_at: datetime
    updated_at: datetime


def _view(account: Account) -> AccountView:
    lineage = None
    if account.province_code and account.city_code and account.county_code and account.school_code:
        lineage = Lineage(
            province=account.province_code,
            city=account.city_code,
            county=account.county_code,
            school=account.school_code,
        )
    return AccountView(
        id=account.id,
        username=account.username,
        role=Role(account.role),
        org_code=account.org_code,
        province=account.province,
        display_name=account.display_name,
        student_id=account.student_id,
        status=AccountState(account.status),
        lineage=lineage,
        created_at=account.created_at,
        updated_at=account.updated_at,
    )


def _own_account_id(principal: Principal) -> UUID | None:
    try:
        return UUID(principal.account_id)
    except ValueError:
        return None


def _is_self(principal: Principal) -> ColumnElement[bool]:
    own = _own_account_id(principal)
    return Account.id == own if own is not None else false()


@router.get("/api/v1/accounts/me", summary="The caller's own account", response_model=AccountView)
async def my_account(principal: OwnPrincipal, ctx: Context) -> AccountView:
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(_is_self(principal)))
    if account is None:
        raise not_found("your account")
    return _view(account)


@router.get(
    "/api/v1/accounts/{account_id}", summary="An account within your jurisdiction", response_model=AccountView
)
async def get_account(account_id: UUID, principal: OwnPrincipal, ctx: Context) -> AccountView:
    async with ctx.sessionmaker() as session:
        account = await session.scalar(select(Account).where(Account.id == account_id, _visible(principal)))
    if account is None:
        raise not_found(f"account {account_id}")
    return _view(account)


def _visible(principal: Principal) -> ColumnElement[bool]:
    """Oneself, and every account whose lineage is inside the caller's jurisdiction: students,
    and the staff accounts created here (seeded staff rows carry no lineage and match nothing)."""
    return or_(_is_self(principal), jurisdiction_filter(principal, account_org_columns()))


class NewAccount(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    role: Role
    display_name: str = Field(min_length=1, max_length=200)
    lineage: Lineage | None = Field(
        None, description="bureaus: the school of the registrar or leader; registrars: omit (own school)"
    )


class IssuedPassword(BaseModel):
    account: AccountView
    one_time_password: str = Field(description="hand it to the user; it must be changed at first sign-in")


@router.post(
    "/api/v1/accounts",
    summary="Create a counselor (registrars) or registrar (bureaus) account",
    status_code=201,
    response_model=IssuedPassword,
)
async def create_account(body: NewAccount, principal: OwnPrincipal, ctx: Context) -> IssuedPassword:
    if not may_create(principal.role, body.role):
        raise forbidden(f"a {principal.role.value} may not create {body.role.value} accounts")
    lineage = (
        body.lineage if principal.role is not Role.SCHOOL_REGISTRAR else await _own_school(ctx, principal)
    )
    if lineage is None:
        raise field_problem("lineage", "the school of the new account is required", "须指定新帐户所属学校")
    if not may_see(principal, lineage.model_dump()):
        raise field_problem(
            "lineage", "the school is outside your jurisdiction", "该学校不在您的管辖范围内", status=403
        )
    password = one_time_password()
    async with ctx.uow() as uow:
        if await uow.session.scalar(select(Account.id).where(Account.username == body.username)):
            raise field_problem("username", "already taken", "用户名已被使用", status=409)
        account = Account(
            id=uuid7(),
            username=body.username,
            password_hash=await hash_password(password),
            role=body.role.value,
            org_code=lineage.school,
            province=lineage.province,
            display_name=body.display_name,
            status=AccountState.ACTIVE.value,
            must_change_password=True,
            province_code=lineage.province,
            city_code=lineage.city,
            county_code=lineage.county,
            school_code=lineage.school,
        )
        uow.session.add(account)
        await uow.session.flush()
        record(
            uow.session,
            AuditKind.ACCOUNT_CREATED,
            body.role.value,
            account_id=account.id,
            actor_id=principal.account_id,
        )
        await uow.commit()
        await uow.session.refresh(account)
    trace.get_current_span().set_attribute(ATTR_ACCOUNT_ID, str(account.id))
    return IssuedPassword(account=_view(account), one_time_password=password)


async def _own_school(ctx: Context, principal: Principal) -> Lineage | None:
    """A registrar's school lineage: the registrar's seeded row carries only the school code, so
    city and county are read off any account of that school that has them."""
    async with ctx.sessionmaker() as session:
        row = (
            await session.execute(
                select(Account.province_code, Account.city_code, Account.county_code)
                .where(Account.school_code == principal.org, Account.city_code.is_not(None))
                .limit(1)
            )
        ).first()
    if row is None or row.province_code is None or row.city_code is None or row.county_code is None:
        return None
    return Lineage(
        province=row.province_code, city=row.city_code, county=row.county_code, school=principal.org
    )


class CounselorChoice(BaseModel):
    counselor_account_id: UUID


@router.put(
    "/api/v1/students/{student_id}/counselor",
    summary="Assign a counselor to a student",
    response_model=AccountView,
)
async def assign_counselor(
    student_id: str, body: CounselorChoice, principal: OwnPrincipal, ctx: Context
) -> AccountView:
    require_role(principal, Role.SCHOOL_REGISTRAR)
    trace.get_current_span().set_attribute(ATTR_STUDENT_ID, student_id)
    async with ctx.uow() as uow:
        student = await uow.session.scalar(
            select(Account)
            .where(Account.student_id == student_id, jurisdiction_filter(principal, account_org_columns()))
            .with_for_update()
        )
        if student is None:
            raise not_found(f"student {student_id}")
        counselor = await uow.session.scalar(
            select(Account).where(
                Account.id == body.counselor_account_id,
                Account.role == Role.COUNSELOR.value,
                Account.school_code == student.school_code,
                Account.status == AccountState.ACTIVE.value,
            )
        )
        if counselor is None:
            raise field_problem(
                "counselor_account_id",
                "no active counselor of the student's school has this id",
                "该学校无此在用辅导员帐户",
            )
        student.counselor_id = str(counselor.id)
        assert student.school_code is not None  # a student's row always carries its lineage
        uow.emit(
            CounselorAssigned(
                student_id=student_id, school_code=student.school_code, counselor_account_id=str(counselor.id)
            ),
            subject=student_id,
        )
        record(
            uow.session,
            AuditKind.COUNSELOR_ASSIGNED,
            "assigned",
            account_id=student.id,
            actor_id=principal.account_id,
            counselor=str(counselor.id),
        )
        await uow.commit()
        await uow.session.refresh(student)
    return _view(student)


async def _managed(session: AsyncSession, account_id: UUID, principal: Principal) -> Account:
    account = await session.scalar(
        select(Account)
        .where(Account.id == account_id, jurisdiction_filter(principal, account_org_columns()))
        .with_for_update()
    )
    if account is None:
        raise not_found(f"account {account_id}")
    if not may_manage(principal.role, Role(account.role)):
        raise forbidden(f"a {principal.role.value} may not manage {account.role} accounts")
    return account


@router.post(
    "/api/v1/accounts/{account_id}/password-reset",
    summary="Reset to a one-time password",
    response_model=IssuedPassword,
)
async def reset_password(account_id: UUID, principal: OwnPrincipal, ctx: Context) -> IssuedPassword:
    password = one_time_password()
    new_hash = await hash_password(password)
    async with ctx.uow() as uow:
        account = await _managed(uow.session, account_id, principal)
        if AccountState(account.status) is not AccountState.ACTIVE:
            raise conflict("only an active account's password can be reset / 仅可重置在用帐户的密码")
        account.password_hash = new_hash
        account.must_change_password = True
        await sessions.revoke_sessions(uow.session, account_id=account.id)
        record(
            uow.session,
            AuditKind.PASSWORD_RESET,
            "reset",
            account_id=account.id,
            actor_id=principal.account_id,
        )
        await uow.commit()
        await uow.session.refresh(account)
    return IssuedPassword(account=_view(account), one_time_password=password)


@router.post(
    "/api/v1/accounts/{account_id}/cancel",
    summary="Cancel (deactivate) an account",
    response_model=AccountView,
)
async def cancel_account(account_id: UUID, principal: OwnPrincipal, ctx: Context) -> AccountView:
    async with ctx.uow() as uow:
        account = await _managed(uow.session, account_id, principal)
        account.status = AccountState.DEACTIVATED.value
        await sessions.revoke_sessions(uow.session, account_id=account.id)
        record(
            uow.session,
            AuditKind.ACCOUNT_CANCELLED,
            "cancelled",
            account_id=account.id,
            actor_id=principal.account_id,
        )
        await uow.commit()
        await uow.session.refresh(account)
    return _view(account)
