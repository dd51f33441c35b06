"""The start page: who is signed in, where to begin."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.console.web import StaffPage

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(page: StaffPage) -> HTMLResponse:
    return page.render("home.html")
