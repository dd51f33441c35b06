"""Issue 7: the other kinds of transfer the demo shows, between running provinces: a move between
two cities of 41 that goes up to the province, and cross-province applications cancelled (撤销)
while either province holds them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import RunningProvinces

OTHER_CITY_SCHOOL = "4141020001"


def _transfer(provinces: RunningProvinces, name: str) -> dict[str, Any]:
    transfer: dict[str, Any] = provinces.report["transfers"][name]
    return transfer


def _step_ids(timeline: list[dict[str, Any]]) -> list[str]:
    return [step["step_id"] for step in timeline]


def test_in_province_transfer__between_cities__every_level_up_to_the_province_approved(
    provinces: RunningProvinces,
) -> None:
    case = _transfer(provinces, "in_province")
    assert case["kind"] == "in_province"
    assert case["states"] == {"41": "COMPLETED"}
    assert case["chain"] == [
        "origin_school",
        "dest_school",
        "origin_county",
        "dest_county",
        "origin_city",
        "dest_city",
        "origin_province",
    ]
    timeline = case["timeline"]["41"]
    approvals = [step for step in timeline if step["action"] == "approve"]
    assert [step["level"] for step in approvals] == case["chain"]
    by_level = {step["level"]: (step["actor_role"], step["actor_org"]) for step in approvals}
    assert by_level["origin_province"] == ("province", "41")
    assert by_level["origin_city"] == ("city", "4101")
    assert by_level["dest_city"] == ("city", "4102")
    assert by_level["dest_school"][1] == OTHER_CITY_SCHOOL
    assert timeline[0]["action"] == "apply"
    assert [e["filename"] for e in timeline[0]["evidence"]] == ["申请书.pdf"]
    assert (timeline[-1]["action"], timeline[-1]["state_after"]) == ("records_moved", "COMPLETED")


def test_in_province_transfer__the_same_record_now_belongs_to_the_new_school(
    provinces: RunningProvinces,
) -> None:
    scenario = provinces.scenario
    case = _transfer(provinces, "in_province")
    student_id = case["student_id"]
    record = scenario.get_json("41", "enrollment", f"/api/v1/students/{student_id}", "province")
    assert record is not None
    assert (record["lineage"]["city"], record["lineage"]["school"]) == ("4102", OTHER_CITY_SCHOOL)
    assert record["status"] == "in_school"
    assert any(case["id"] in (line["detail"] or "") for line in record["history"])

    number = scenario.student_numbers[student_id]
    listed = scenario.get_json("41", "enrollment", f"/api/v1/students?student_number={number}", "province")
    assert listed is not None
    assert [item["id"] for item in listed["items"]] == [student_id]  # moved, not copied

    path = f"/api/v1/students/{student_id}"
    assert scenario.get_json("41", "enrollment", path, "school_registrar", OTHER_CITY_SCHOOL) is not None
    assert scenario.get_json("41", "enrollment", path, "school_registrar", "4141010001") is None


def test_cancel__while_the_destination_holds_the_case__cancelled_at_once_in_both_provinces(
    provinces: RunningProvinces,
) -> None:
    case = _transfer(provinces, "cancelled_while_held_here")
    assert case["cancel_status"] == 200
    assert case["states"] == {"41": "CANCELLED", "37": "CANCELLED"}
    timeline = case["timeline"]
    assert _step_ids(timeline["41"]) == _step_ids(timeline["37"])
    last = timeline["41"][-1]
    assert (last["action"], last["actor_province"], last["actor_role"]) == (
        "cancel",
        "41",
        "school_registrar",
    )


def test_cancel__once_the_origin_holds_the_case__requested_then_cancelled_by_the_origin(
    provinces: RunningProvinces,
) -> None:
    case = _transfer(provinces, "cancelled_by_origin")
    assert case["cancel_status"] == 202
    assert case["states"] == {"41": "CANCELLED", "37": "CANCELLED"}
    timeline = case["timeline"]
    assert _step_ids(timeline["41"]) == _step_ids(timeline["37"])
    actions = [(step["action"], step["level"]) for step in timeline["41"]]
    assert actions == [
        ("apply", None),
        ("approve", "dest_school"),
        ("approve", "dest_county"),
        ("cancel_requested", None),
        ("cancel", "origin_school"),  # an ending line names the level the case waited for
    ]
    assert timeline["41"][-1]["state_after"] == "CANCELLED"


@pytest.mark.parametrize(
    ("name", "readers"),
    [
        ("in_province", [("41", "county", "410102"), ("41", "county", "410202"), ("41", "city", "4102")]),
        ("cancelled_while_held_here", [("41", "county", "410102"), ("37", "county", "370102")]),
        ("cancelled_by_origin", [("41", "city", "4101"), ("37", "county", "370102")]),
    ],
)
def test_timelines__each_bureau_of_the_case_reads_the_same_lines(
    provinces: RunningProvinces, name: str, readers: list[tuple[str, str, str]]
) -> None:
    case = _transfer(provinces, name)
    expected = _step_ids(next(iter(case["timeline"].values())))
    for province, role, org in readers:
        seen = provinces.scenario.get_json(province, "transfer", f"/api/v1/transfers/{case['id']}", role, org)
        assert seen is not None, (province, role, org)
        assert _step_ids(seen["timeline"]) == expected, (province, role, org)
        assert seen["state_label"] == ("已撤销" if name.startswith("cancelled") else "调档完毕")


def test_cross_province_transfer__the_origins_verification_summary_follows_the_student(
    provinces: RunningProvinces,
) -> None:
    scenario = provinces.scenario
    student_id = provinces.report["student_id"]

    def summarised() -> list[dict[str, Any]] | None:
        record = scenario.get_json("41", "enrollment", f"/api/v1/students/{student_id}", "province")
        lines = [
            line for line in (record or {}).get("history", []) if line["action"] == "verification_summary"
        ]
        return lines or None

    [line] = scenario.wait_for("the verification summary from 37", summarised)
    assert line["province"] == "37" and "常态化核验汇总" in line["detail"]
