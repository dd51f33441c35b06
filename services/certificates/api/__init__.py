"""The certificates service's HTTP API, one module per capability."""

from __future__ import annotations

from fastapi import APIRouter

from services.certificates.api import education, graduation, issuing, printing, verification
from services.certificates.models import StudentView
from shared.readmodels import student_view_router

ROUTERS: list[APIRouter] = [
    student_view_router(StudentView, tag="graduands"),
    graduation.router,
    issuing.router,
    printing.router,
    education.router,
    verification.router,
]
