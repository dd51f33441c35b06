"""The harness itself: the service starts on the real servers, keeps its student read model from
enrollment's events, and reaches the peers' contracts through the stand-in."""

from __future__ import annotations

import pytest

from services.certificates.startup import peers_of
from services.certificates.tests.integration.conftest import Area, RunningCertificates, student_summary
from shared.auth import Role
from shared.events.enrollment import StudentRegistered

pytestmark = pytest.mark.integration


async def test_a_registered_student_reaches_the_read_model(
    certificates: RunningCertificates, area: Area
) -> None:
    student = student_summary(lineage=area.lineage())
    envelope = await certificates.publish(StudentRegistered(student=student))
    await certificates.applied(envelope)

    response = await certificates.client.get(
        f"/api/v1/students/{student.student_id}",
        headers=certificates.auth(Role.SCHOOL_REGISTRAR, area.school),
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == student.name


async def test_the_peers_answer_with_the_facts_and_photo_the_test_set(
    certificates: RunningCertificates, area: Area
) -> None:
    student = await certificates.seed_graduand(lineage=area.lineage())

    facts = await peers_of(certificates.ctx).certificate_facts([student.student_id, "nobody"])
    photo = await peers_of(certificates.ctx).id_photo(student.student_id)

    assert set(facts) == {student.student_id}
    assert facts[student.student_id].id_number == "41010220090501123X"
    assert photo is not None and photo[:2] == b"\xff\xd8"
    assert await peers_of(certificates.ctx).id_photo("nobody") is None
