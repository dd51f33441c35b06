"""The browser-side files, served by name from an allow-list: the console's own and the two
pinned npm packages (package.json), never anything else under node_modules and never a CDN."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
STATIC = HERE / "static"

ASSETS: dict[str, tuple[Path, str]] = {
    "htmx.min.js": (NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js", "text/javascript"),
    "echarts.min.js": (NODE_MODULES / "echarts" / "dist" / "echarts.min.js", "text/javascript"),
    **{
        path.name: (path, "text/css" if path.suffix == ".css" else "text/javascript")
        for path in STATIC.glob("*")
        if path.suffix in (".css", ".js")
    },
}
# Pinned versions make a long cache safe only with a changing URL; a day is a fair compromise.
CACHE = "public, max-age=86400"

router = APIRouter()


@router.get("/assets/{name}", include_in_schema=False)
async def asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        return Response("not found", status_code=404, media_type="text/plain")
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": CACHE})
