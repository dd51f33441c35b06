"""The registration screens' pure parts: the single-entry form as enrollment's request body, the
service's field names as the form's, the progress bar, and the fragments rendered in both
languages with the reasons enrollment gave (the browser test drives the whole thing)."""

from __future__ import annotations

from typing import Any

import pytest

from services.console.i18n import Language
from services.console.pages.registration_forms import (
    bare_field,
    class_in_scope,
    form_values,
    percent_done,
    student_body,
    unplaced_errors,
    with_form_fields,
)
from services.console.tests.rendering import rendered
from services.console.upstream import FieldReason, UpstreamProblem


def test_empty_optional_fields_are_left_to_the_service() -> None:
    values = form_values({"name": " 王浩然 ", "id_type": "resident_id", "id_number": "x", "class_id": "c1"})
    assert student_body(values) == {
        "name": "王浩然",
        "id_type": "resident_id",
        "id_number": "x",
        "class_id": "c1",
    }


def test_filled_optional_fields_are_sent_and_a_study_length_is_a_number() -> None:
    values = form_values(
        {
            "name": "a",
            "id_type": "passport",
            "id_number": "E1",
            "class_id": "c",
            "study_length": "2.5",
            "sex": "F",
        }
    )
    body = student_body(values)
    assert body["study_length"] == 2.5
    assert body["sex"] == "F"
    assert "birth_date" not in body


def test_an_unreadable_study_length_goes_to_the_service_as_typed() -> None:
    """The service's reason, not the console's, is what the registrar reads."""
    values = form_values({"study_length": "三年"})
    assert student_body(values)["study_length"] == "三年"


def test_a_form_field_that_is_not_text_counts_as_empty() -> None:
    assert form_values({"name": object()})["name"] == ""


@pytest.mark.parametrize(
    ("given", "expected"),
    [("body.name", "name"), ("id_number", "id_number"), ("form.file", "file"), ("bodyweight", "bodyweight")],
)
def test_a_location_prefix_is_dropped(given: str, expected: str) -> None:
    assert bare_field(given) == expected


def test_reasons_are_placed_by_field_and_the_rest_is_kept() -> None:
    problem = UpstreamProblem(
        422,
        "Validation failed",
        "数据校验未通过",
        errors=[
            FieldReason("body.name", "too short", "长度太短"),
            FieldReason("registry", "down", "暂不可用"),
        ],
    )
    placed = with_form_fields(problem)
    assert [e.field for e in placed.errors] == ["name", "registry"]
    assert placed.status == 422 and placed.title_zh == "数据校验未通过"
    assert [e.field for e in unplaced_errors(placed, ("name", "id_number"))] == ["registry"]
    assert unplaced_errors(None, ("name",)) == []


@pytest.mark.parametrize(
    ("progress", "percent"),
    [
        ({"status": "queued", "total": None, "processed": 0}, 0),
        ({"status": "running", "total": 200, "processed": 50}, 25),
        ({"status": "running", "total": 0, "processed": 0}, 0),
        ({"status": "done", "total": 0, "processed": 0}, 100),
    ],
)
def test_percent_done(progress: dict[str, Any], percent: int) -> None:
    assert percent_done(progress) == percent


def test_the_class_of_the_tree_selection() -> None:
    assert class_in_scope("4141010001/class-1") == "class-1"
    assert class_in_scope("4141010001") is None
    assert class_in_scope("41") is None
    assert class_in_scope("") is None


JOB = {
    "id": "job-1",
    "class_id": "class-1",
    "kind": "class",
    "retry_of": None,
    "id_type": "resident_id",
    "filename": "名单.xlsx",
    "status": "done",
    "total": 3,
    "processed": 3,
    "registered": 2,
    "failed": 1,
}
REPORT = {
    "id": "job-1",
    "status": "done",
    "failed_rows": [
        {
            "row": 4,
            "message_zh": "第4行 【身份证号】身份证号码校验位不正确，请核对号码",
            "problems": [
                {
                    "column": "身份证号",
                    "reason_zh": "身份证号码校验位不正确，请核对号码",
                    "reason_en": "The ID number's check digit does not match; please check the number",
                }
            ],
        }
    ],
    "notes": [],
}


def render_progress(language: Language, job: dict[str, Any], report: dict[str, Any] | None) -> str:
    return rendered(
        "registration/_progress.html",
        language,
        job=job,
        class_name="2025级1班",
        percent=100,
        report=report,
        duplicate=False,
        may_register=True,
    )


@pytest.mark.parametrize(
    ("language", "summary", "reason"),
    [
        ("zh", "共 3 行：注册成功 2 行，失败 1 行", "身份证号码校验位不正确，请核对号码"),
        ("en", "3 rows: 2 registered, 1 failed", "The ID number&#39;s check digit does not match"),
    ],
)
def test_a_finished_import_shows_each_row_reason_in_the_page_language(
    language: Language, summary: str, reason: str
) -> None:
    html = render_progress(language, JOB, REPORT)
    assert summary in html
    assert reason in html
    assert "/registration/imports/job-1/failed-rows.xlsx" in html
    assert 'name="fixed_class" value="1"' in html  # the re-upload form, for the same class
    assert "hx-trigger" not in html  # done: no more polling


def test_a_running_import_keeps_polling_and_shows_no_report() -> None:
    running = {**JOB, "status": "running", "processed": 1, "registered": 0, "failed": 0}
    html = render_progress("zh", running, None)
    assert 'hx-get="/registration/imports/job-1/progress"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "下载失败行工作簿" not in html
