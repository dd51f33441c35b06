"""Staff accounts from the deployment's seed file (deploy/seed/<province>.json, with passwords
added by the launcher). Upserted by username at every start: the file is the source of truth."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from uuid6 import uuid7

from services.identity.domain.account_state import AccountState
from services.identity.models import Account
from services.identity.passwords import hash_password
from shared.auth import Role
from shared.bus.unit_of_work import UnitOfWork


class SeedAccount(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    username: str = Field(min_length=1, max_length=64)
    role: Role
    org: str = Field(
        pattern=r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{4})?)?)?$", description="region code or school code"
    )
    display_name: str = Field("", max_length=200)
    password: str | None = Field(None, min_length=1)


class SeedFile(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    accounts: list[SeedAccount] = Field(default_factory=list)


def read_seed_accounts(path: Path) -> list[SeedAccount]:
    return SeedFile.model_validate(json.loads(path.read_text(encoding="utf-8"))).accounts


async def seed_accounts(uow: UnitOfWork, province: str, accounts: list[SeedAccount]) -> None:
    """One row per username; role, org, name and password as the file says; status active.

    A seed entry without a password keeps the hash the account already has, so a file that
    does not carry passwords never locks anybody out.
    """
    for account in accounts:
        if account.role is Role.STUDENT:
            raise ValueError(f"seed account {account.username}: student accounts come from enrollment")
        password_hash = await hash_password(account.password) if account.password else None
        statement = insert(Account).values(
            id=uuid7(),
            username=account.username,
            password_hash=password_hash,
            role=account.role.value,
            org_code=account.org,
            province=province,
            display_name=account.display_name,
            status=AccountState.ACTIVE.value,
        )
        await uow.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Account.username],
                set_={
                    "password_hash": func.coalesce(statement.excluded.password_hash, Account.password_hash),
                    "role": statement.excluded.role,
                    "org_code": statement.excluded.org_code,
                    "province": statement.excluded.province,
                    "display_name": statement.excluded.display_name,
                    "status": statement.excluded.status,
                    "updated_at": func.now(),
                },
            )
        )
    await uow.commit()
