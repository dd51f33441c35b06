"""Enrollment's routes, one module per area of the service."""

from __future__ import annotations

from fastapi import APIRouter

from services.enrollment.api import students

ROUTERS: list[APIRouter] = [students.router]
