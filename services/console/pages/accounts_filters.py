"""学生账号管理's filters, without I/O: the URL's filters (and the jurisdiction tree's scope) as
identity's query, used alike by the list, the statistics and the export (WEB.md: one filter
function serves list and export)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.console.web import ID_SEGMENT

PAGE_SIZE = 50
STATUSES = ("active", "not_activated", "deactivated")
SCHOOL = re.compile(r"^[0-9]{10}$")
CLASS_ID = re.compile(ID_SEGMENT)


@dataclass(frozen=True)
class AccountFilters:
    school_code: str | None = None
    class_id: str | None = None
    status: str | None = None
    face_captured: bool | None = None
    search: str | None = None
    region: str | None = None  # a province/city/county chosen in the tree (2/4/6 digits)

    def identity_params(self) -> dict[str, Any]:
        """The query identity's /student-accounts, /statistics and /export.xlsx take."""
        params: dict[str, Any] = {}
        if self.region:
            params["region"] = self.region
        if self.school_code:
            params["school_code"] = self.school_code
        if self.class_id:
            params["class_id"] = self.class_id
        if self.status:
            params["status"] = self.status
        if self.face_captured is not None:
            params["face_captured"] = "true" if self.face_captured else "false"
        if self.search:
            params["search"] = self.search
        return params


def _face(raw: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(raw or "")


def filters_from(query: Mapping[str, str], scope: str) -> AccountFilters:
    """The filters of the URL; the tree's scope picks the school (and class) unless the form
    names a class of its own. Values identity would refuse are dropped, not passed on."""
    school = query.get("school_code") or ""
    klass = query.get("class_id") or ""
    region = None
    if scope:
        scoped_school, _, scoped_class = scope.partition("/")
        if SCHOOL.match(scoped_school):
            school = scoped_school
            klass = klass or scoped_class
        elif scope.isdigit() and len(scope) in (2, 4, 6):
            region = scope
    status = query.get("status") or ""
    search = (query.get("search") or "").strip()[:64]
    return AccountFilters(
        school_code=school if SCHOOL.match(school) else None,
        class_id=klass if CLASS_ID.match(klass) else None,
        status=status if status in STATUSES else None,
        face_captured=_face(query.get("face")),
        search=search or None,
        region=region,
    )


def rate(part: int, whole: int) -> str:
    """A share as a whole percentage ("—" for an empty class)."""
    if whole <= 0:
        return "—"
    return f"{round(100 * part / whole)}%"
