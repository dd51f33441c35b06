"""A counselor sees the students identity assigned to them, and no others (DOMAIN.md roles)."""

from __future__ import annotations

import pytest

from services.enrollment.tests.integration.conftest import SCHOOL, Province
from shared.auth import Role
from shared.events.identity import CounselorAssigned
from shared.testing import eventually

pytestmark = pytest.mark.integration


async def test_counselor_assigned__the_counselor_sees_that_student_only(p41: Province) -> None:
    mine, other = await p41.register(), await p41.register()
    counselor = "acct-counselor-wang"
    url = f"/api/v1/students/{mine['id']}"
    before = await p41.client.get(url, headers=p41.auth(Role.COUNSELOR, account_id=counselor))
    assert before.status_code == 404

    await p41.publish_local(
        CounselorAssigned(student_id=mine["id"], school_code=SCHOOL["41"], counselor_account_id=counselor)
    )

    async def visible() -> bool | None:
        response = await p41.client.get(url, headers=p41.auth(Role.COUNSELOR, account_id=counselor))
        return response.status_code == 200 or None

    await eventually(visible)
    not_mine = await p41.client.get(
        f"/api/v1/students/{other['id']}", headers=p41.auth(Role.COUNSELOR, account_id=counselor)
    )
    assert not_mine.status_code == 404
    someone_else = await p41.client.get(url, headers=p41.auth(Role.COUNSELOR, account_id="acct-counselor-li"))
    assert someone_else.status_code == 404
