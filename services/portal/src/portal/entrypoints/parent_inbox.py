"""Parents' inbox: the messages notifications holds for them (``GET /v1/inbox``, in the page's language), marking
one read (``POST /v1/inbox/{id}/read``), and live updates: ``/parent/inbox/stream`` relays notifications'
``GET /v1/inbox/stream`` (server-sent events) so a new message appears without reloading the page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response, StreamingResponse

from portal.adapters.parent_api import inbox_events
from portal.entrypoints.pages import Csrf, PageDep

router = APIRouter()
PARENT = "parent"


@router.get("/inbox")
async def inbox(page: PageDep) -> Response:
    page.require(PARENT)
    messages = (await page.api.get("notifications", "/v1/inbox"))["items"]
    return page.render("parent/inbox.html", messages=messages)


@router.post("/inbox/{message_id}/read", dependencies=[Csrf])
async def mark_read(page: PageDep, message_id: str) -> Response:
    page.require(PARENT)
    await page.api.post("notifications", f"/v1/inbox/{message_id}/read")
    return page.redirect("/parent/inbox")


@router.get("/inbox/stream")
async def stream(page: PageDep) -> Response:
    session = page.require(PARENT)
    await page.api.get("notifications", "/v1/inbox/unread")  # refreshes an expiring token first
    token = (page.session or session).access_token
    events = inbox_events(
        page.request.app.state.http,
        page.settings,
        token,
        page.language,
        page.request.headers.get("last-event-id"),
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
