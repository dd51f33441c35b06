"""What every page handler gets: the signed-in viewer, the services behind the console, the
request's language, and one way to render a template (a whole page, or a fragment for htmx).

    @router.get("/students")
    async def students(page: StaffPage) -> HTMLResponse:
        rows = await page.get("enrollment", "/api/v1/students", params=...)
        return page.render("students/list.html", {"rows": rows})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.i18n import Language, Languages, pick_language
from services.console.session import Sessions, Viewer
from services.console.upstream import Service, Upstream
from shared.auth import Role


class SignInRequired(Exception):
    """No valid session: the handler in app.py sends the browser to the right sign-in page."""

    def __init__(self, student: bool) -> None:
        super().__init__("sign in first")
        self.student = student


class WrongAudience(Exception):
    """A student on a staff page or staff on the student's phone page."""

    def __init__(self, student_page: bool) -> None:
        super().__init__("this page is for another kind of account")
        self.student_page = student_page


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    languages: Languages = request.app.state.languages
    language = pick_language(request)
    environment = languages.environments[language]
    values: dict[str, Any] = {
        "request": request,
        "viewer": getattr(request.state, "viewer", None),
        "is_htmx": request.headers.get("HX-Request") == "true",
        "scope": request.query_params.get("scope", ""),
    }
    values.update(context or {})
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))


@dataclass
class Page:
    request: Request
    viewer: Viewer
    upstream: Upstream
    language: Language

    def _(self, text: str) -> str:
        """The text in the request's language (Chinese is the source)."""
        languages: Languages = self.request.app.state.languages
        return languages.gettext(self.language)(text)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    @property
    def scope(self) -> str:
        """The jurisdiction tree's selection (a region code, a school code, or ``school/class``)."""
        return self.request.query_params.get("scope", "")

    async def get(self, service: Service, path: str, *, params: Any = None) -> Any:
        return await self.upstream.get_json(service, path, token=self.viewer.token, params=params)

    async def post(self, service: Service, path: str, *, json: Any = None) -> Any:
        return await self.upstream.post_json(service, path, token=self.viewer.token, json=json)

    async def call(self, service: Service, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self.upstream.request(service, method, path, token=self.viewer.token, **kwargs)

    def render(
        self,
        template: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        return render(self.request, template, context, status_code=status_code, headers=headers)


async def _viewer(request: Request, *, student_page: bool) -> Viewer:
    sessions: Sessions = request.app.state.sessions
    viewer = await sessions.viewer(request)
    if viewer is None:
        raise SignInRequired(student=student_page)
    if viewer.is_student != student_page:
        raise WrongAudience(student_page)
    request.state.viewer = viewer
    return viewer


async def staff_page(request: Request) -> Page:
    viewer = await _viewer(request, student_page=False)
    return Page(request, viewer, request.app.state.upstream, pick_language(request))


async def student_page(request: Request) -> Page:
    viewer = await _viewer(request, student_page=True)
    return Page(request, viewer, request.app.state.upstream, pick_language(request))


StaffPage = Annotated[Page, Depends(staff_page)]
StudentPage = Annotated[Page, Depends(student_page)]
BUREAU_ROLES = frozenset({Role.PROVINCE, Role.CITY, Role.COUNTY, Role.MINISTRY})
# A service's id as one segment of the console's path and of the API path it is put into: nothing
# that could climb out of that path (a slash, dots, an encoded character).
ID_SEGMENT = r"^[0-9A-Za-z-]{1,40}$"
PathId = Annotated[str, Path(pattern=ID_SEGMENT)]


def finished(page: Page, target: str) -> Response:
    """Where a successful action lands: the browser follows (htmx) or is redirected."""
    if page.is_htmx:
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
