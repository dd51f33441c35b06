"""The jurisdiction tree on the left (province → city → county → school → class).

Each node is a link to the current page with ``scope=<node>``; its children are fetched when it is
opened. A node's key is a region code (2, 4 or 6 digits), a school code (10 digits) or
``<school>/<class id>``. Only what the services return for the viewer's token is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.console.web import Page, StaffPage

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Node:
    key: str
    name: str
    has_children: bool


def _region_children(parent: str, regions: list[dict[str, Any]], schools: list[dict[str, Any]]) -> list[Node]:
    """Cities of a province, counties of a city (those that hold a school the viewer sees), or
    the schools of a county."""
    if len(parent) == 6:
        return [Node(s["code"], s["name"], True) for s in schools if s["lineage"]["county"] == parent]
    width = len(parent) + 2
    visible = {s["lineage"]["city" if width == 4 else "county"] for s in schools}
    return [
        Node(r["code"], r["name"], True)
        for r in regions
        if r.get("parent_code") == parent and len(r["code"]) == width and r["code"] in visible
    ]


async def children_of(page: Page, key: str) -> list[Node]:
    if len(key) == 10:
        classes = await page.get("enrollment", f"/api/v1/schools/{key}/classes")
        return [Node(f"{key}/{c['id']}", c["name"], False) for c in classes]
    if "/" in key:
        return []
    regions = await page.get("enrollment", "/api/v1/regions")
    schools = await page.get("enrollment", "/api/v1/schools", params={"limit": 500})
    return _region_children(key, regions, schools)


def scoped_link(path: str, key: str) -> str:
    return f"{path}?{urlencode({'scope': key})}"


@router.get("/tree")
async def tree_fragment(
    page: StaffPage,
    node: Annotated[str, Query(pattern=r"^[0-9]{2,10}(/[0-9A-Za-z-]{1,64})?$")],
    path: Annotated[str, Query(pattern=r"^/[a-z0-9/_-]*$")] = "/students",
) -> HTMLResponse:
    children = await children_of(page, node)
    return page.render(
        "_tree_children.html", {"children": children, "path": path, "scoped_link": scoped_link}
    )
