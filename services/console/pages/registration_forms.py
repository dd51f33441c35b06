"""Pure helpers of the registration screens: the single-entry form as enrollment's request body,
the service's field names as the form's, an import's progress as a percentage.

Kept apart from the handlers so they can be tested without a browser or a service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from services.console.upstream import FieldReason, UpstreamProblem

# The single-entry form's fields, in the order enrollment's RegisterStudent names them.
REQUIRED_FIELDS = ("name", "id_type", "id_number", "class_id")
OPTIONAL_FIELDS = (
    "study_length",
    "study_form",
    "entry_route",
    "major_code",
    "sex",
    "birth_date",
    "nationality",
    "ethnicity",
)
FORM_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS

# Request-validation problems name a field as pydantic's location ("body.name"); the rule checks
# name it bare ("id_number"). The form knows only the bare name.
_LOCATION_PREFIXES = ("body.", "form.", "query.")


def form_values(form: Mapping[str, Any]) -> dict[str, str]:
    """The submitted text of every single-entry field (absent ones empty), trimmed, for
    re-rendering the form as the person left it."""
    values: dict[str, str] = {}
    for name in FORM_FIELDS:
        raw = form.get(name)
        values[name] = raw.strip() if isinstance(raw, str) else ""
    return values


def student_body(values: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body of ``POST /api/v1/students``. Empty optional fields are left out, so the
    service's defaults apply (the class's major, CHN nationality, 3 years…). Text the service must
    judge (an unreadable study length, say) is sent as typed: the service's reason is the message."""
    body: dict[str, Any] = {name: values.get(name, "") for name in REQUIRED_FIELDS}
    for name in OPTIONAL_FIELDS:
        text = values.get(name, "")
        if not text:
            continue
        body[name] = _number_or_text(text) if name == "study_length" else text
    return body


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def bare_field(field: str) -> str:
    for prefix in _LOCATION_PREFIXES:
        if field.startswith(prefix):
            return field[len(prefix) :]
    return field


def with_form_fields(problem: UpstreamProblem) -> UpstreamProblem:
    """The problem with its errors named as the form's fields, so each reason sits by its field."""
    errors = [FieldReason(bare_field(e.field), e.reason, e.reason_zh) for e in problem.errors]
    return replace(problem, errors=errors)


def unplaced_errors(problem: UpstreamProblem | None, fields: tuple[str, ...]) -> list[FieldReason]:
    """Reasons about something the form has no field for: shown above the form, never lost."""
    if problem is None:
        return []
    return [e for e in problem.errors if e.field not in fields]


def percent_done(progress: Mapping[str, Any]) -> int:
    """0–100 for the progress bar; a queued import (total not yet counted) is at 0."""
    total = progress.get("total") or 0
    if progress.get("status") == "done":
        return 100
    if total <= 0:
        return 0
    return min(100, int(100 * int(progress.get("processed") or 0) / total))


def class_in_scope(scope: str) -> str | None:
    """The class the jurisdiction tree points at (``<school>/<class id>``), if any."""
    if "/" in scope:
        class_id = scope.split("/", 1)[1]
        return class_id or None
    return None
