"""Issue 3: a student registered in both provinces is found through the inter-province link
(keyed hashes of the ID number, never the number) and becomes a problem record on both sides."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from shared.idnumber import make_resident_id
from tests.e2e.conftest import RunningProvinces


def _problem_records(provinces: RunningProvinces, province: str) -> list[dict[str, Any]]:
    scenario = provinces.scenario
    found = scenario.get_json(
        province, "enrollment", "/api/v1/problem-records?kind=duplicate_id", "school_registrar"
    )
    return list((found or {}).get("items", []))


def test_cross_province_duplicate__problem_record_on_both_sides(provinces: RunningProvinces) -> None:
    scenario = provinces.scenario
    rng = random.Random()
    id_number = make_resident_id(
        "410102", date(2010, rng.randint(1, 12), rng.randint(1, 28)), rng.randint(0, 999)
    )
    registered = {}
    for province in ("37", "41"):
        school = scenario.account(province, "school_registrar")["organisation"]
        registered[province] = scenario.call(
            "POST",
            province,
            "enrollment",
            "/api/v1/students",
            role="school_registrar",
            json={
                "name": "王重",
                "id_type": "resident_id",
                "id_number": id_number,
                "class_id": f"class-{school}-2024-1",
            },
            expect=201,
        ).json()

    def both_sides_open() -> dict[str, dict[str, Any]] | None:
        sides = {}
        for province in ("37", "41"):
            mine = [
                r
                for r in _problem_records(provinces, province)
                if r["student_id"] == registered[province]["id"]
            ]
            if not mine:
                return None
            sides[province] = mine[0]
        return sides

    sides = scenario.wait_for("a duplicate problem record in both provinces", both_sides_open)
    assert sides["41"]["counterpart_province"] == "37"
    assert sides["37"]["counterpart_province"] == "41"
    # The later-registered side (41) acts first.
    assert sides["41"]["your_turn"] is True and sides["37"]["your_turn"] is False
    assert id_number not in str(sides)  # masked everywhere
