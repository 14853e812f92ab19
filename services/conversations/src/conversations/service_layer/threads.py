"""Use cases of a thread: start one about an object, post, read, mark read, attach and download files.

A message's text never leaves this service: MessagePosted carries ids only (docs/architecture.md, "Invariants").
"""

from __future__ import annotations

import uuid
from uuid import UUID

from conversations.adapters import subject_repository, thread_repository
from conversations.adapters.thread_repository import AttachmentRow, MessageRow
from conversations.domain.messages import AttachmentRefused, Language, check_attachment
from conversations.domain.participants import (
    Counterpart,
    NoSuchCounterpart,
    NotAParticipant,
    ObjectType,
    Side,
    Thread,
    check_counterpart,
    side_of,
)
from conversations.service_layer.access import caller_of, participant
from conversations.service_layer.dependencies import Dependencies
from conversations.service_layer.paging import Page
from conversations.service_layer.views import (
    AttachmentOut,
    Download,
    MessageOut,
    ReceiptOut,
    ThreadOut,
)
from qosym_chassis import outbox
from qosym_chassis.auth import Principal
from qosym_chassis.errors import Conflict, FieldError, NotFound, Unprocessable
from qosym_contracts.conversations import MessagePostedV1


def _thread_out(thread: Thread, side: Side, receipts: list[ReceiptOut] | None = None) -> ThreadOut:
    s = thread.subject
    return ThreadOut(
        thread_id=thread.thread_id,
        object_type=s.object_type,
        object_id=s.object_id,
        counterpart=thread.counterpart,
        child_id=s.child_id,
        provider_id=s.provider_id,
        region_code=s.region_code,
        started_by_side=thread.started_by_side,
        started_at=thread.started_at,
        your_side=side,
        receipts=receipts or [],
    )


def _message_out(thread_id: UUID, m: MessageRow, files: list[AttachmentRow]) -> MessageOut:
    return MessageOut(
        message_id=m.message_id,
        thread_id=thread_id,
        author_side=m.author_side,
        author_id=m.author_id,
        language=m.language,
        text=m.body,
        posted_at=m.posted_at,
        attachments=[AttachmentOut(**vars(f)) for f in files if f.message_id == m.message_id],
    )


async def start(
    deps: Dependencies, principal: Principal, object_type: ObjectType, object_id: UUID, counterpart: Counterpart
) -> tuple[ThreadOut, bool]:
    """The object's thread with the counterpart (created on first call; True when created). Only someone who would
    take part in it may start it: a guardian of the child, the provider's staff, an operator of the region."""
    caller = caller_of(principal)
    async with deps.sessions() as session, session.begin():
        subject = await subject_repository.get_subject(session, object_type, object_id)
        if subject is None:
            raise NotFound("no such object")
        guardians = await subject_repository.guardians_of(session, subject.child_id)
        try:
            side = side_of(caller, subject, counterpart, guardians)
        except NotAParticipant:
            raise NotFound("no such object") from None
        try:
            check_counterpart(subject, counterpart)
        except NoSuchCounterpart as exc:
            raise FieldError("with", str(exc), code="no_such_counterpart") from None
        thread, created = await thread_repository.start(
            session, uuid.uuid4(), subject, counterpart, side, deps.clock.now()
        )
        return _thread_out(thread, side), created


async def visible(
    deps: Dependencies, principal: Principal, object_type: ObjectType | None, offset: int, limit: int
) -> Page[ThreadOut]:
    """The caller's threads (a guardian's children's, a provider's, an operator's region's), newest first."""
    caller = caller_of(principal)
    async with deps.sessions() as session:
        if caller.role == "parent":
            threads, total = await thread_repository.visible_to(
                session, guardian_id=caller.subject, object_type=object_type, offset=offset, limit=limit
            )
            side: Side = "guardian"
        elif caller.role == "provider_staff":
            threads, total = await thread_repository.visible_to(
                session, provider_id=caller.provider_id, object_type=object_type, offset=offset, limit=limit
            )
            side = "provider_staff"
        else:
            threads, total = await thread_repository.visible_to(
                session,
                region_code=caller.region_code,
                district_code=caller.district_code,
                object_type=object_type,
                offset=offset,
                limit=limit,
            )
            side = "operator"
    return Page([_thread_out(t, side) for t in threads], total, offset, limit)


async def read_thread(deps: Dependencies, principal: Principal, thread_id: UUID) -> ThreadOut:
    async with deps.sessions() as session:
        thread, side, _ = await participant(session, caller_of(principal), thread_id)
        receipts = await thread_repository.receipts(session, thread_id)
    return _thread_out(
        thread,
        side,
        [
            ReceiptOut(
                reader_id=r.reader_id,
                reader_side=r.reader_side,
                last_read_message_id=r.last_read_message_id,
                read_at=r.read_at,
            )
            for r in receipts
        ],
    )


async def messages(
    deps: Dependencies, principal: Principal, thread_id: UUID, offset: int, limit: int
) -> Page[MessageOut]:
    async with deps.sessions() as session:
        await participant(session, caller_of(principal), thread_id)
        found, total = await thread_repository.messages(session, thread_id, offset, limit)
        files = await thread_repository.attachments_of(session, [m.message_id for m in found])
    return Page([_message_out(thread_id, m, files) for m in found], total, offset, limit)


def _uuids(values: list[str]) -> list[UUID]:
    found = []
    for v in values:
        try:
            found.append(UUID(v))
        except ValueError:
            continue
    return found


async def post(deps: Dependencies, principal: Principal, thread_id: UUID, language: Language, text: str) -> MessageOut:
    """A participant writes; the other side (and the child's other guardians) is told through MessagePosted."""
    caller = caller_of(principal)
    now = deps.clock.now()
    message_id = uuid.uuid4()
    async with deps.sessions() as session, session.begin():
        thread, side, guardians = await participant(session, caller, thread_id)
        await thread_repository.add_message(session, thread_id, message_id, side, caller.subject, language, text, now)
        guardian_author = side == "guardian"
        s = thread.subject
        await outbox.add_event(
            session,
            MessagePostedV1(
                occurred_at=now,
                thread_id=thread_id,
                message_id=message_id,
                object_type=s.object_type,
                object_id=s.object_id,
                counterpart=thread.counterpart,
                author_role=side,
                author_id=next(iter(_uuids([caller.subject])), None),
                recipient_guardian_ids=_uuids([g for g in guardians if g != caller.subject]),
                recipient_provider_id=s.provider_id if guardian_author and thread.counterpart == "provider" else None,
                recipient_region_code=(
                    s.region_code if guardian_author and thread.counterpart == "consultation_point" else None
                ),
                recipient_district_code=(
                    s.district_code if guardian_author and thread.counterpart == "consultation_point" else None
                ),
            ),
        )
        # the author has read what they wrote
        await thread_repository.mark_read(session, thread_id, caller.subject, side, message_id, now)
    row = MessageRow(message_id, side, caller.subject, language, text, now)
    return _message_out(thread_id, row, [])


async def mark_read(deps: Dependencies, principal: Principal, thread_id: UUID) -> ReceiptOut:
    """The caller has read the thread up to its latest message."""
    caller = caller_of(principal)
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        _, side, _ = await participant(session, caller, thread_id)
        last = await thread_repository.last_message(session, thread_id)
        if last is None:
            raise Conflict("the thread has no message to read yet")
        await thread_repository.mark_read(session, thread_id, caller.subject, side, last.message_id, now)
    return ReceiptOut(reader_id=caller.subject, reader_side=side, last_read_message_id=last.message_id, read_at=now)


async def attach(
    deps: Dependencies, principal: Principal, thread_id: UUID, message_id: UUID, content: bytes
) -> AttachmentOut:
    """The author of a message attaches a file to it (PDF, JPEG or PNG, at most 5 MiB, 5 a message), sealed."""
    caller = caller_of(principal)
    async with deps.sessions() as session, session.begin():
        await participant(session, caller, thread_id)
        m = await thread_repository.get_message(session, thread_id, message_id)
        if m is None:
            raise NotFound("no such message")
        if m.author_id != caller.subject:
            raise NotFound("no such message of yours")
        try:
            media_type = check_attachment(content, await thread_repository.count_attachments(session, message_id))
        except AttachmentRefused as exc:
            if exc.code == "too_many_attachments":
                raise Unprocessable(str(exc)) from None
            raise FieldError("file", str(exc), code=exc.code) from None
        attachment_id = uuid.uuid4()
        await thread_repository.add_attachment(
            session,
            attachment_id,
            thread_id,
            message_id,
            media_type,
            len(content),
            deps.attachments.seal(attachment_id, content),
            deps.clock.now(),
        )
    return AttachmentOut(
        attachment_id=attachment_id, message_id=message_id, media_type=media_type, size_bytes=len(content)
    )


async def download(deps: Dependencies, principal: Principal, thread_id: UUID, attachment_id: UUID) -> Download:
    async with deps.sessions() as session:
        await participant(session, caller_of(principal), thread_id)
        found = await thread_repository.sealed_attachment(session, thread_id, attachment_id)
    if found is None:
        raise NotFound("no such attachment")
    media_type, sealed = found
    return Download(media_type=media_type, content=deps.attachments.open(attachment_id, sealed))
