"""Making, reading and moving transfer cases over a province's API, as every integration test
here does: new students, evidence, applications, the checks enrollment answers, reading a case
as someone, waiting for it to reach a state, and acting on it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.transfer.domain.case_copy import StepInput, decide, system_actor
from services.transfer.domain.transfer_process import Expire
from services.transfer.models import TransferCase
from services.transfer.steps import load, store
from services.transfer.tests.integration.conftest import HENAN_KAIFENG_SCHOOL, HENAN_SCHOOL
from services.transfer.tests.integration.support import Province
from shared.auth import Role
from shared.events.common import Lineage, StudentSummary
from shared.events.enrollment import DestinationChecked, OriginChecked, StudentMovedWithinProvince
from shared.testing import eventually

Who = tuple[Role, str]
Case = dict[str, Any]

HENAN_REGISTRAR: Who = (Role.SCHOOL_REGISTRAR, HENAN_SCHOOL.school)
REQUEST_LETTER = "转学申请书.pdf"
# The in-province case the tracking and export tests make: Zhengzhou to Kaifeng, another city,
# so the chain goes up to the province.
ORIGIN = HENAN_SCHOOL
DEST = HENAN_KAIFENG_SCHOOL


# ---- people ------------------------------------------------------------------------------------


def new_student_number(prefix: str = "G") -> str:
    """A national student number nobody has used: ``prefix``, random digits to 17, then a check
    letter. A prefix such as ``G4101`` keeps what the masked number shows predictable."""
    digits = 18 - len(prefix)
    return f"{prefix}{uuid.uuid4().int % 10**digits:0{digits}d}X"


def unique_student_name() -> str:
    """A name no other test's case starts with, so a name filter finds only this test's cases."""
    return f"测{uuid.uuid4().hex[:8]}"


def student_summary(
    number: str,
    lineage: Lineage,
    *,
    school_name: str,
    name: str = "王五",
    sex: str = "M",
    id_number_masked: str = "4101**********5678",
    class_id: str | None = None,
    status: str = "in_school",
) -> StudentSummary:
    """The student as the origin's enrollment describes them in its check."""
    return StudentSummary(
        student_id=f"stu-{uuid.uuid4().hex[:12]}",
        student_number=number,
        name=name,
        sex=sex,
        birth_date=None,
        id_number_masked=id_number_masked,
        lineage=lineage,
        school_name=school_name,
        class_id=class_id,
        grade=2025,
        major_code="710201",
        study_length=3.0,
        study_form="full_time",
        status=status,
    )


# ---- applying ----------------------------------------------------------------------------------


async def upload_evidence(
    province: Province, headers: dict[str, str], *, filename: str = REQUEST_LETTER
) -> dict[str, Any]:
    """The handwritten request as a PDF, uploaded by whoever ``headers`` sign in; its stored record."""
    response = await province.client.post(
        "/api/v1/transfers/evidence",
        params={"filename": filename},
        content=b"%PDF-1.4 handwritten request",
        headers={**headers, "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    uploaded: dict[str, Any] = response.json()
    return uploaded


async def apply_in_province(
    province: Province,
    destination: Lineage,
    *,
    student_number: str | None = None,
    student_name: str = "王五",
    reason: str = "家庭搬迁",
    evidence_filename: str = REQUEST_LETTER,
    evidence_ids: list[str] | None = None,
    applicant: Who = HENAN_REGISTRAR,
    expect: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    """The origin school applies to move its student to ``destination`` inside the province, with
    its request letter (uploaded here unless ``evidence_ids`` are given); the response body (the
    case, or the problem when ``expect`` is a 4xx)."""
    if evidence_ids is None:
        letter = await upload_evidence(province, province.headers(*applicant), filename=evidence_filename)
        evidence_ids = [letter["evidence_id"]]
    body = {
        "kind": "in_province",
        "student_number": student_number or new_student_number(),
        "student_name": student_name,
        "destination_school": destination.school,
        "grade": 2025,
        "reason": reason,
        "evidence_ids": evidence_ids,
        **extra,
    }
    response = await province.client.post(
        "/api/v1/transfers", json=body, headers=province.headers(*applicant)
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def apply_from_other_province(
    province: Province,
    origin_province: str = "37",
    *,
    kind: str = "cross_province",
    student_number: str | None = None,
    student_name: str = "李四",
    reason: str = "随父母工作调动",
    grade: int = 2025,
    applicant: Who = HENAN_REGISTRAR,
    expect: int = 201,
) -> dict[str, Any]:
    """The destination school applies to take a student from ``origin_province`` (no evidence:
    the origin's records speak for the student); the response body."""
    response = await province.client.post(
        "/api/v1/transfers",
        json={
            "kind": kind,
            "student_number": student_number or new_student_number(),
            "student_name": student_name,
            "origin_province": origin_province,
            "grade": grade,
            "reason": reason,
        },
        headers=province.headers(*applicant),
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def pass_both_checks(province: Province, transfer_id: str, student: StudentSummary) -> None:
    """Both schools' enrollment checks come back fine, as they would inside one province."""
    await province.publish(
        DestinationChecked(transfer_id=transfer_id, ok=True, school_type="secondary_vocational")
    )
    await province.publish(
        OriginChecked(transfer_id=transfer_id, ok=True, student=student, school_type="secondary_vocational")
    )


# ---- reading and waiting -----------------------------------------------------------------------


async def visible_case(province: Province, transfer_id: str, who: Who) -> Case | None:
    """The case as ``who`` reads it, or None where it is hidden from them (404)."""
    response = await province.client.get(f"/api/v1/transfers/{transfer_id}", headers=province.headers(*who))
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    case: Case = response.json()
    return case


async def read_case(province: Province, transfer_id: str, who: Who | None = None) -> Case:
    """The case as ``who`` reads it, by default the province office, which sees every case."""
    reader = who or (Role.PROVINCE, province.code)
    case = await visible_case(province, transfer_id, reader)
    assert case is not None, f"{reader} cannot see {transfer_id}"
    return case


async def wait_for_case(
    province: Province,
    transfer_id: str,
    who: Who | None = None,
    *,
    where: Callable[[Case], bool] | None = None,
    **fields: Any,
) -> Case:
    """The case once ``who`` sees it with every given field at its value and ``where`` holding;
    the bus moves cases asynchronously, and a copy not opened yet is not seen at all."""
    reader = who or (Role.PROVINCE, province.code)

    async def probe() -> Case | None:
        case = await visible_case(province, transfer_id, reader)
        if case is None or any(case[key] != value for key, value in fields.items()):
            return None
        return case if where is None or where(case) else None

    return await eventually(probe)


# ---- acting ------------------------------------------------------------------------------------


async def act(
    province: Province, transfer_id: str, verb: str, who: Who, *, expect: int = 200, **body: str
) -> dict[str, Any]:
    """``who`` approves, rejects or cancels (``verb``) with an optional opinion; the response body."""
    response = await province.client.post(
        f"/api/v1/transfers/{transfer_id}/{verb}", json=body or None, headers=province.headers(*who)
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


def pending_reviewer(case: Case) -> Who:
    """Who reviews the case's pending level: the school's leader, or the bureau of that rank."""
    side, rank = case["pending_level"].split("_", 1)
    prefix = "origin" if side == "origin" else "dest"
    if rank == "school":
        return (Role.SCHOOL_LEADER, case[f"{prefix}_school"])
    if rank == "province":
        return (Role.PROVINCE, case[f"{prefix}_province"])
    return (Role(rank), case[f"{prefix}_{rank}"])


async def approve_every_level(province: Province, transfer_id: str) -> Case:
    case = await read_case(province, transfer_id, HENAN_REGISTRAR)
    while case["state"] == "UNDER_REVIEW":
        case = await act(province, transfer_id, "approve", pending_reviewer(case), opinion="同意")
    return case


# ---- Zhengzhou to Kaifeng, each way a case ends -------------------------------------------------


async def checked_case(
    henan: Province, student_name: str, *, destination: Lineage = DEST
) -> tuple[str, StudentSummary]:
    """The origin school applies to move its student inside Henan; both checks pass."""
    number = new_student_number("G41010220")
    applied = await apply_in_province(
        henan,
        destination,
        student_number=number,
        student_name=student_name,
        reason="随父母工作调动",
        evidence_filename="申请书.pdf",
    )
    transfer_id: str = applied["id"]
    student = student_summary(
        number,
        ORIGIN,
        school_name="郑州市信息技术中等职业学校",
        name=student_name,
        sex="F",
        id_number_masked="4101**********1234",
    )
    await pass_both_checks(henan, transfer_id, student)
    await wait_for_case(henan, transfer_id, HENAN_REGISTRAR, origin_checked=True, dest_checked=True)
    return transfer_id, student


async def completed_case(henan: Province, student_name: str) -> str:
    transfer_id, student = await checked_case(henan, student_name)
    assert (await approve_every_level(henan, transfer_id))["state"] == "RECORDS_MOVING"
    moved = student.model_copy(update={"lineage": DEST, "school_name": "开封市文化艺术职业学校"})
    await henan.publish(
        StudentMovedWithinProvince(student=moved, transfer_id=transfer_id, from_lineage=ORIGIN)
    )
    await wait_for_case(henan, transfer_id, HENAN_REGISTRAR, state="COMPLETED")
    return transfer_id


async def rejected_case(henan: Province, student_name: str) -> str:
    transfer_id, _ = await checked_case(henan, student_name)
    await act(henan, transfer_id, "approve", (Role.SCHOOL_LEADER, ORIGIN.school))
    await act(henan, transfer_id, "reject", (Role.SCHOOL_LEADER, DEST.school), opinion="班额已满")
    return transfer_id


async def cancelled_case(henan: Province, student_name: str) -> str:
    transfer_id, _ = await checked_case(henan, student_name)
    await act(henan, transfer_id, "cancel", HENAN_REGISTRAR, opinion="学生改变主意")
    return transfer_id


async def expired_case(henan: Province, student_name: str) -> str:
    """The pending level let its deadline pass: the system's expire step, as the sweeper takes it."""
    transfer_id, _ = await checked_case(henan, student_name)
    async with henan.ctx.uow() as uow:
        case = await uow.session.get(TransferCase, transfer_id, with_for_update=True)
        assert case is not None
        before = await load(uow.session, case, henan.code)
        step = StepInput(
            step_id=f"{transfer_id}/expire",
            actor=system_actor(henan.code),
            at=datetime.now(UTC).isoformat(),
            opinion="逾期未审核",
        )
        await store(uow, case, before, decide(before, Expire(), step))
        await uow.commit()
    return transfer_id
