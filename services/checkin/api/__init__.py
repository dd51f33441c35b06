"""Check-in's HTTP API, one router per concern."""

from fastapi import APIRouter

from services.checkin.api import appeals, check_ins, internships, leave, lists, rounds, statistics
from services.checkin.models import StudentView
from shared.readmodels import student_view_router

ROUTERS: list[APIRouter] = [
    rounds.router,
    check_ins.router,
    leave.router,
    internships.router,
    appeals.router,
    lists.router,
    statistics.router,
    student_view_router(StudentView, tag="roster"),
]
