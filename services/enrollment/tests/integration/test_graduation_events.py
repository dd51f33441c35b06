"""Enrollment's side of graduation on the real broker and database: the certificates service's
events change the record (status, history) and announce ``StudentStatusChanged`` in the same
unit of work, once however often they arrive; and the certificate facts enrollment answers to
the certificates service with the service token."""

from __future__ import annotations

from datetime import date
from typing import Any

from uuid6 import uuid7

from services.enrollment.tests.integration.conftest import SCHOOL, SERVICE_TOKEN, Province, envelope_of
from services.enrollment.tests.integration.test_transfer_handlers import _dead_letter
from shared.auth import Role
from shared.bus.consumer import DEAD_REASON_HEADER
from shared.bus.topology import EVENTS_EXCHANGE
from shared.events import EventEnvelope, EventPayload
from shared.events.certificates import GraduationOutcome, GraduationRolledBack, StudentGraduated
from shared.events.common import Lineage

STATUS_CHANGED = "enrollment.student.status_changed"


def _lineage(student: dict[str, Any]) -> Lineage:
    return Lineage.model_validate(student["lineage"])


def _graduated(
    student: dict[str, Any], number: str, outcome: GraduationOutcome = "graduated", list_id: str = "list-1"
) -> StudentGraduated:
    return StudentGraduated(
        student_id=student["id"],
        lineage=_lineage(student),
        outcome=outcome,
        graduation_list_id=list_id,
        certificate_number=number,
        graduated_on=date(2027, 6, 11),
    )


def _rolled_back(student: dict[str, Any], number: str, list_id: str = "list-1") -> GraduationRolledBack:
    return GraduationRolledBack(
        student_id=student["id"],
        lineage=_lineage(student),
        graduation_list_id=list_id,
        certificate_number=number,
        reason="毕业信息有误，需更正后重新办理",
        rolled_back_by_level="county",
    )


async def _deliver(p: Province, payload: EventPayload) -> EventEnvelope:
    """Published as the certificates service's relay would, and waited for."""
    envelope = EventEnvelope.wrap(payload, source="certificates", province=p.code)
    await _redeliver(p, envelope)
    return envelope


async def _redeliver(p: Province, envelope: EventEnvelope) -> None:
    """The very same message again (the broker's at-least-once delivery)."""
    await p.publish_raw(EVENTS_EXCHANGE, envelope.type, envelope.to_bytes(), {})
    await p.applied(envelope)


async def _record(p: Province, student_id: str) -> dict[str, Any]:
    response = await p.client.get(f"/api/v1/students/{student_id}", headers=p.auth(Role.SCHOOL_REGISTRAR))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _graduation_lines(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in record["history"] if h["action"].startswith("graduation")]


async def _announced(p: Province, student_id: str) -> list[dict[str, Any]]:
    rows = await p.outbox_about(STATUS_CHANGED, student_id)
    return [envelope_of(row).data for row in rows]


def _number() -> str:
    return f"2027{SCHOOL['37']}{uuid7().hex[-8:].upper()}"


async def test_graduated__ends_the_record_with_history_and_announces_it(p37: Province) -> None:
    student = await p37.register()
    number = _number()
    envelope = await _deliver(p37, _graduated(student, number, "completed", list_id="list-g1"))

    record = await _record(p37, student["id"])
    assert record["status"] == "completed"
    [line] = _graduation_lines(record)
    assert line["action"] == "graduation:completed"
    assert line["detail"].startswith("结业") and number in line["detail"]
    assert "2027年6月11日" in line["detail"]
    [announced] = await _announced(p37, student["id"])
    assert announced["change_type"] == "graduation" and announced["review_id"] == "list-g1"
    assert announced["from_status"] == "in_school" and announced["student"]["status"] == "completed"
    # The status, the history and the announcement were written in one transaction.
    [row] = await p37.outbox_about(STATUS_CHANGED, student["id"])
    assert envelope_of(row).causation_id == envelope.id

    # A duplicate delivery, and a replay under a new envelope id: nothing more.
    await _redeliver(p37, envelope)
    await _deliver(p37, _graduated(student, number, "completed", list_id="list-g1"))
    again = await _record(p37, student["id"])
    assert again["status"] == "completed" and len(_graduation_lines(again)) == 1
    assert len(await _announced(p37, student["id"])) == 1


async def test_rolled_back__returns_to_school_once_and_a_late_replay_does_not_graduate_again(
    p37: Province,
) -> None:
    student = await p37.register()
    number = _number()
    await _deliver(p37, _graduated(student, number))
    rollback = await _deliver(p37, _rolled_back(student, number))

    record = await _record(p37, student["id"])
    assert record["status"] == "in_school"
    graduation, undone = _graduation_lines(record)
    assert graduation["action"] == "graduation:graduated"
    assert undone["action"] == "graduation_rollback"
    assert undone["detail"].startswith("撤销毕业") and number in undone["detail"]
    assert "毕业信息有误" in undone["detail"] and "县级教育行政部门" in undone["detail"]
    first, second = await _announced(p37, student["id"])
    assert (first["change_type"], first["student"]["status"]) == ("graduation", "graduated")
    assert second["change_type"] == "graduation_rollback" and second["review_id"] == "list-1"
    assert (second["from_status"], second["student"]["status"]) == ("graduated", "in_school")

    # The rollback again, and the voided certificate's graduation replayed: still in school.
    await _redeliver(p37, rollback)
    await _deliver(p37, _rolled_back(student, number))
    await _deliver(p37, _graduated(student, number))
    after = await _record(p37, student["id"])
    assert after["status"] == "in_school" and len(_graduation_lines(after)) == 2
    assert len(await _announced(p37, student["id"])) == 2

    # A new certificate graduates the student again.
    await _deliver(p37, _graduated(student, _number(), list_id="list-2"))
    assert (await _record(p37, student["id"]))["status"] == "graduated"
    assert len(await _announced(p37, student["id"])) == 3


async def test_rolled_back__before_its_graduation_is_noted_and_the_graduation_then_skipped(
    p37: Province,
) -> None:
    """A retried graduation can be requeued behind its rollback: the certificate is void."""
    student = await p37.register()
    number = _number()
    await _deliver(p37, _rolled_back(student, number))
    await _deliver(p37, _graduated(student, number))

    record = await _record(p37, student["id"])
    assert record["status"] == "in_school"
    [noted] = _graduation_lines(record)
    assert noted["action"] == "graduation_rollback" and "学籍状态不变" in noted["detail"]
    assert await _announced(p37, student["id"]) == []


async def test_graduated__a_second_certificate_for_a_graduate_goes_to_an_operator(p37: Province) -> None:
    """Never dropped: dead-lettered with the reason, the record as the first certificate left it."""
    student = await p37.register()
    await _deliver(p37, _graduated(student, _number()))
    second = EventEnvelope.wrap(
        _graduated(student, _number(), list_id="list-2"), source="certificates", province="37"
    )
    await p37.publish_raw(EVENTS_EXCHANGE, second.type, second.to_bytes(), {})
    message = await _dead_letter(p37, second)
    assert "graduated cannot graduate" in str((message.headers or {}).get(DEAD_REASON_HEADER))
    assert (await _record(p37, student["id"]))["status"] == "graduated"
    assert len(await _announced(p37, student["id"])) == 1


async def test_graduated__a_certificate_naming_another_school_goes_to_an_operator(p37: Province) -> None:
    student = await p37.register()
    elsewhere = _graduated(student, _number()).model_copy(
        update={"lineage": _lineage(student).model_copy(update={"school": "3737010099"})}
    )
    envelope = EventEnvelope.wrap(elsewhere, source="certificates", province=p37.code)
    await p37.publish_raw(EVENTS_EXCHANGE, envelope.type, envelope.to_bytes(), {})
    message = await _dead_letter(p37, envelope)
    assert "names school 3737010099" in str((message.headers or {}).get(DEAD_REASON_HEADER))
    assert (await _record(p37, student["id"]))["status"] == "in_school"


# --- certificate facts -----------------------------------------------------------------------


async def _facts(p: Province, ids: list[str], authorization: str | None) -> Any:
    headers = {"Authorization": authorization} if authorization else {}
    return await p.client.post("/internal/v1/certificate-facts", json={"student_ids": ids}, headers=headers)


async def test_certificate_facts__only_with_the_service_token(p37: Province) -> None:
    student = await p37.register()
    for authorization in (
        None,
        "Service wrong-token",
        f"Bearer {SERVICE_TOKEN}",
        p37.auth(Role.PROVINCE)["Authorization"],
    ):
        response = await _facts(p37, [student["id"]], authorization)
        assert response.status_code == 401, authorization
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_certificate_facts__in_full_for_known_students_and_unknown_listed(p37: Province) -> None:
    id_number = p37.new_id_number()
    student = await p37.register("张𬌗", id_number=id_number)
    unknown = str(uuid7())
    response = await _facts(p37, [unknown, student["id"], student["id"]], f"Service {SERVICE_TOKEN}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["unknown"] == [unknown]
    [facts] = body["facts"]
    assert facts == {
        "student_id": student["id"],
        "name": "张𬌗",
        "sex": student["sex"],
        "birth_date": student["birth_date"],
        "id_type": "resident_id",
        "id_number": id_number,  # in full: the certificate prints it
        # Registered now into the 2024 class, never filed: the autumn intake's first day.
        "study_start": "2024-09-01",
        "study_length": student["study_length"],
        "study_form": "full_time",
        "major_code": "710201",
        "major_name": "计算机应用",
        "skill_direction": None,
        "school_name": student["school_name"],
    }
    assert facts["sex"] in ("M", "F") and facts["birth_date"]


async def test_certificate_facts__a_bad_request_is_a_problem(p37: Province) -> None:
    response = await _facts(p37, [], f"Service {SERVICE_TOKEN}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
