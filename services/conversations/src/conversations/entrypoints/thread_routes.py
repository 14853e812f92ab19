"""Threads: start one about an object, list, read, post, mark read, attach and download files."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Response, UploadFile, status

from conversations.domain.messages import ATTACHMENT_MAX_BYTES
from conversations.domain.participants import ObjectType
from conversations.entrypoints.dependencies import Deps, Participant
from conversations.entrypoints.paging import offset_page
from conversations.entrypoints.schemas import MessageIn, StartIn
from conversations.service_layer import threads
from conversations.service_layer.views import AttachmentOut, MessageOut, ReceiptOut, ThreadOut
from qosym_chassis.errors import FieldError
from qosym_chassis.inputs import Limit, Offset, OffsetPage

router = APIRouter(tags=["threads"])


@router.post("/v1/threads", status_code=status.HTTP_201_CREATED, responses={200: {}, 404: {}, 422: {}})
async def start_thread(body: StartIn, caller: Participant, deps: Deps, response: Response) -> ThreadOut:
    """The object's thread with the provider or the consultation point (201 when new, 200 when it exists)."""
    thread, created = await threads.start(deps, caller, body.object_type, body.object_id, body.with_)
    if not created:
        response.status_code = status.HTTP_200_OK
    return thread


@router.get("/v1/threads")
async def my_threads(
    caller: Participant, deps: Deps, object_type: ObjectType | None = None, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[ThreadOut]:
    """The threads the caller takes part in, newest first."""
    return offset_page(await threads.visible(deps, caller, object_type, offset, limit))


@router.get("/v1/threads/{thread_id}", responses={404: {}})
async def read_thread(thread_id: UUID, caller: Participant, deps: Deps) -> ThreadOut:
    """A thread with its participants' read receipts."""
    return await threads.read_thread(deps, caller, thread_id)


@router.get("/v1/threads/{thread_id}/messages", responses={404: {}})
async def thread_messages(
    thread_id: UUID, caller: Participant, deps: Deps, offset: Offset = 0, limit: Limit = 50
) -> OffsetPage[MessageOut]:
    """The thread's messages, oldest first."""
    return offset_page(await threads.messages(deps, caller, thread_id, offset, limit))


@router.post("/v1/threads/{thread_id}/messages", status_code=status.HTTP_201_CREATED, responses={404: {}, 422: {}})
async def post_message(thread_id: UUID, body: MessageIn, caller: Participant, deps: Deps) -> MessageOut:
    """Write in the thread (kk, ru or en); the other side is told through notifications."""
    return await threads.post(deps, caller, thread_id, body.language, body.text)


@router.post("/v1/threads/{thread_id}/read", responses={404: {}, 409: {}})
async def mark_read(thread_id: UUID, caller: Participant, deps: Deps) -> ReceiptOut:
    """The caller has read the thread up to its latest message."""
    return await threads.mark_read(deps, caller, thread_id)


@router.post(
    "/v1/threads/{thread_id}/messages/{message_id}/attachments",
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 413: {}, 422: {}},
    max_body_size=ATTACHMENT_MAX_BYTES + 64 * 1024,
)
async def attach(
    thread_id: UUID,
    message_id: UUID,
    caller: Participant,
    deps: Deps,
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 5 MiB")],
) -> AttachmentOut:
    """The author of a message attaches a file to it (multipart/form-data)."""
    content = await file.read(ATTACHMENT_MAX_BYTES + 1)
    if len(content) > ATTACHMENT_MAX_BYTES:
        raise FieldError("file", "an attachment is at most 5 MiB", code="attachment_too_large")
    return await threads.attach(deps, caller, thread_id, message_id, content)


@router.get(
    "/v1/threads/{thread_id}/attachments/{attachment_id}",
    responses={
        200: {
            "description": "the file as uploaded, as an attachment",
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("application/pdf", "image/jpeg", "image/png")
            },
        },
        404: {},
    },
    response_class=Response,
)
async def download(thread_id: UUID, attachment_id: UUID, caller: Participant, deps: Deps) -> Response:
    found = await threads.download(deps, caller, thread_id, attachment_id)
    return Response(
        content=found.content,
        media_type=found.media_type,
        headers={"Content-Disposition": "attachment", "X-Content-Type-Options": "nosniff"},
    )
