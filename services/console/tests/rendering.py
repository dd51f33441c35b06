"""One page template rendered as the console renders it, without a running service: the
language's environment (with the menu's globals, which the frame needs) and a request for the
template's links."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request

from services.console.i18n import Language, Languages
from services.console.menu import current_href, menu_for
from services.console.session import Viewer
from shared.auth import Principal, Role


@cache
def _languages() -> Languages:
    return Languages(configure=lambda env: env.globals.update(menu_for=menu_for, current_href=current_href))


def viewer(role: Role = Role.SCHOOL_REGISTRAR, org: str = "4141010001") -> Viewer:
    principal = Principal(account_id="a1", username="u", role=role, org=org, province="41")
    return Viewer(principal, "token")


def rendered(template: str, language: Language = "zh", /, **context: Any) -> str:
    """``template`` in ``language`` with ``context``; the request's ``path`` is "/", ``viewer``
    None, ``scope`` empty and ``is_htmx`` false unless given."""
    path = str(context.pop("path", "/"))
    request = Request({"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": []})
    values: dict[str, Any] = {"request": request, "viewer": None, "scope": "", "is_htmx": False, **context}
    return _languages().environments[language].get_template(template).render(values)
