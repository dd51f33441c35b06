"""Enrollment's routes, one module per area of the service."""

from __future__ import annotations

from fastapi import APIRouter

from services.enrollment.api import (
    audit,
    certificate_facts,
    exports,
    filing,
    indicators,
    key_data,
    no_id_students,
    orgs,
    pending_actions,
    problems,
    queries,
    registration_windows,
    registrations,
    reviews,
    status_changes,
    students,
)

# queries first: its /students/search must win over students' /students/{student_id}.
ROUTERS: list[APIRouter] = [
    queries.router,
    students.router,
    registrations.router,
    problems.router,
    exports.router,
    indicators.router,
    audit.router,
    orgs.router,
    reviews.router,
    no_id_students.router,
    status_changes.router,
    key_data.router,
    filing.router,
    pending_actions.router,
    registration_windows.router,
    certificate_facts.router,
]
