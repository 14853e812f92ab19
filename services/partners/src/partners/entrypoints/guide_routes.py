"""docs/partners.md as a browsable page, with the AsyncAPI documents it links to: what a partner may rely on when
it reads Qosym's topics or receives its webhooks. Public (it is the published contract), not in the OpenAPI
document (it is a page, not an API)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from markdown_it import MarkdownIt

from qosym_chassis.errors import NotFound

router = APIRouter(include_in_schema=False)
DOCUMENT = re.compile(r"^[a-z]+\.json$")
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}}
table{{border-collapse:collapse;font-size:14px}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;vertical-align:top}}
code{{background:#f3f3f3;padding:0 .2rem}}pre{{background:#f3f3f3;padding:.5rem;overflow:auto}}</style>
</head><body>
{body}
</body></html>
"""


def guide_dir() -> Path:
    """The repository's docs/ (the image keeps docs/partners.md and docs/asyncapi/ in /app/docs)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "docs" / "partners.md").is_file():
            return folder / "docs"
    return Path("/app/docs")


@lru_cache(maxsize=1)
def rendered() -> str:
    source = (guide_dir() / "partners.md").read_text(encoding="utf-8")
    title = source.splitlines()[0].lstrip("# ").strip() if source else "Partners"
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(source)
    return PAGE.format(title=html.escape(title), body=body)


@router.get("/guide")
async def guide_root() -> RedirectResponse:
    return RedirectResponse("guide/", status_code=308)


@router.get("/guide/", response_class=HTMLResponse)
async def guide() -> HTMLResponse:
    """docs/partners.md as HTML (its relative links to asyncapi/<service>.json resolve below)."""
    return HTMLResponse(rendered())


@router.get("/guide/asyncapi/{name}")
async def asyncapi_document(name: str) -> FileResponse:
    path = guide_dir() / "asyncapi" / name
    if not DOCUMENT.fullmatch(name) or not path.is_file():
        raise NotFound("no such AsyncAPI document")
    return FileResponse(path, media_type="application/json")
