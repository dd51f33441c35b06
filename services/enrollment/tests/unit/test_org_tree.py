from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.enrollment.domain.org_tree import InvalidOrgTree, OrgSeed, QualificationRow, flatten

SEEDS = Path(__file__).resolve().parents[4] / "deploy" / "seed"


def _tree(**school: Any) -> dict[str, Any]:
    base = {
        "code": "4141010001",
        "name": "学校",
        "type": "secondary_vocational",
        "majors": [{"code": "710201", "name": "计算机应用"}],
        "classes": [{"id": "c1", "name": "1班", "grade": 2024, "major_code": "710201"}],
    }
    base.update(school)
    return {
        "province": {"code": "41", "name": "河南省"},
        "cities": [
            {
                "code": "4101",
                "name": "郑州市",
                "counties": [{"code": "410102", "name": "中原区", "schools": [base]}],
            }
        ],
        "accounts": [{"username": "ignored"}],
    }


@pytest.mark.parametrize("province", ["41", "37"])
def test_flatten__seed_files(province: str) -> None:
    rows = flatten(OrgSeed.model_validate_json((SEEDS / f"{province}.json").read_bytes()))
    # Every seed has a province with at least one city, county and school (41 has two, for
    # transfers between schools of one province); each county hangs under its city.
    assert rows.regions[0].level == "province" and rows.regions[0].parent_code is None
    levels = {r.code: r.level for r in rows.regions}
    for region in rows.regions[1:]:
        parent_level = levels[region.parent_code] if region.parent_code else None
        assert (region.level, parent_level) in {("city", "province"), ("county", "city")}
    assert rows.schools and all(school.lineage.province == province for school in rows.schools)
    assert len(rows.campuses) >= len(rows.schools)
    assert {campus.boundary["type"] for campus in rows.campuses} == {"Polygon"}
    assert len(rows.classes) >= 2 * len(rows.schools)


def test_flatten__qualification_years_from_the_classes() -> None:
    tree = _tree(
        classes=[
            {"id": "c1", "name": "1班", "grade": 2024, "major_code": "710201"},
            {"id": "c2", "name": "2班", "grade": 2025, "major_code": "710201"},
            {"id": "c3", "name": "3班", "grade": 2025, "major_code": "710201"},
        ]
    )
    rows = flatten(OrgSeed.model_validate(tree))
    assert rows.qualifications == [
        QualificationRow("4141010001", "710201", 2024),
        QualificationRow("4141010001", "710201", 2025),
    ]


def test_flatten__qualification_years_given_in_the_seed_win() -> None:
    tree = _tree(majors=[{"code": "710201", "name": "计算机应用", "years": [2023]}])
    rows = flatten(OrgSeed.model_validate(tree))
    assert rows.qualifications == [QualificationRow("4141010001", "710201", 2023)]


def test_flatten__class_of_a_major_the_school_does_not_teach() -> None:
    tree = _tree(majors=[])
    with pytest.raises(InvalidOrgTree, match="does not teach"):
        flatten(OrgSeed.model_validate(tree))


def test_flatten__county_outside_its_city() -> None:
    tree = _tree()
    tree["cities"][0]["counties"][0]["code"] = "370102"
    with pytest.raises(InvalidOrgTree, match="county 370102 is not in city 4101"):
        flatten(OrgSeed.model_validate(tree))


def test_flatten__a_major_taught_by_two_schools_is_one_catalogue_row() -> None:
    tree = _tree()
    county = tree["cities"][0]["counties"][0]
    second = json.loads(json.dumps(county["schools"][0]))
    second["code"] = "4141010002"
    second["classes"][0]["id"] = "c9"
    county["schools"].append(second)
    rows = flatten(OrgSeed.model_validate(tree))
    assert [m.code for m in rows.majors] == ["710201"]
    assert len(rows.qualifications) == 2


@pytest.mark.parametrize("province", ["41", "37"])
def test_seed_windows__demo_grants_each_seeded_intake(province: str) -> None:
    """The demo registers into its seeded classes long after their deadlines: the seed opens a
    supplementary window (补注册) for the autumn intake of every seeded class's year."""
    seed = OrgSeed.model_validate_json((SEEDS / f"{province}.json").read_bytes())
    granted = {(w.intake_year, w.season) for w in seed.supplementary_windows}
    assert {(c.grade, "autumn") for c in flatten(seed).classes} <= granted
    assert {w.reason for w in seed.supplementary_windows} == {"演示环境补注册"}


def test_seed_windows__one_before_the_deadline_is_refused() -> None:
    window = {
        "intake_year": 2024,
        "season": "autumn",
        "starts_on": "2024-11-01",
        "ends_on": "2024-12-31",
        "reason": "补注册",
    }
    with pytest.raises(ValueError, match="starts_on"):
        OrgSeed.model_validate({**_tree(), "supplementary_windows": [window]})
    later = {**window, "starts_on": "2024-11-21"}
    seed = OrgSeed.model_validate({**_tree(), "supplementary_windows": [later]})
    assert [w.intake_year for w in seed.supplementary_windows] == [2024]
