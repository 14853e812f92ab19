"""Conversations' authorisation matrix: a thread belongs to the child's guardians and its one counterpart (the
provider's staff, or the operators of the object's region); response times to the region's operators and the
administrators. Every other caller is refused and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from services.conversations.tests.component.support import PDF, Family
from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("conversations", stack_servers, service_template, jwks_url) as w:
        yield w


async def _thread(w: World, counterpart: str) -> tuple[Family, str, str, dict[str, dict[str, str]]]:
    """A new family's thread with one guardian message: (family, thread id, message id, owners' headers)."""
    f = Family()
    await w.deliver(*f.events())
    guardian = w.tokens.parent(f.guardian_id)
    object_type = "enrolment" if counterpart == "provider" else "dispute"
    started = await w.client.post(
        "/v1/threads",
        json={"object_type": object_type, "object_id": str(f.object_id(object_type)), "with": counterpart},
        headers=guardian,
    )
    assert started.status_code == 201, started.text
    thread_id = started.json()["thread_id"]
    posted = await w.client.post(
        f"/v1/threads/{thread_id}/messages", json={"language": "ru", "text": "Вопрос"}, headers=guardian
    )
    assert posted.status_code == 201, posted.text
    owners = {"guardian": guardian}
    if counterpart == "provider":
        owners["own_staff"] = w.tokens.staff(f.provider_id)
    else:
        owners["region_operator"] = w.tokens.operator("astana")
    return f, thread_id, posted.json()["message_id"], owners


def plain(counterpart: str, body: Any = None) -> Callable[[World], Awaitable[Case]]:
    async def factory(w: World) -> Case:
        _, thread_id, _, owners = await _thread(w, counterpart)
        return Case(path={"thread_id": thread_id}, owners=owners, body=body)

    return factory


def attachment_upload(counterpart: str) -> Callable[[World], Awaitable[Case]]:
    async def factory(w: World) -> Case:
        _, thread_id, message_id, owners = await _thread(w, counterpart)
        return Case(
            path={"thread_id": thread_id, "message_id": message_id},
            owners=owners,
            files={"file": ("a.pdf", PDF, "application/pdf")},
            expect=201,
        )

    return factory


def attachment_download(counterpart: str) -> Callable[[World], Awaitable[Case]]:
    async def factory(w: World) -> Case:
        _, thread_id, message_id, owners = await _thread(w, counterpart)
        uploaded = await w.client.post(
            f"/v1/threads/{thread_id}/messages/{message_id}/attachments",
            files={"file": ("a.pdf", PDF, "application/pdf")},
            headers=owners["guardian"],
        )
        assert uploaded.status_code == 201, uploaded.text
        return Case(path={"thread_id": thread_id, "attachment_id": uploaded.json()["attachment_id"]}, owners=owners)

    return factory


async def region(w: World) -> Case:
    return Case(
        path={"region_code": "astana"},
        owners={"region_operator": w.tokens.operator("astana"), "administrator": w.tokens.administrator()},
    )


MESSAGE = {"language": "kk", "text": "Жауап"}
SIDES = {"provider": ("guardian", "own_staff"), "consultation_point": ("guardian", "region_operator")}
ENTRIES = [
    entry
    for counterpart, owners in SIDES.items()
    for entry in (
        Entry("GET", "/v1/threads/{thread_id}", plain(counterpart), owners=owners, variant=counterpart),
        Entry("GET", "/v1/threads/{thread_id}/messages", plain(counterpart), owners=owners, variant=counterpart),
        Entry(
            "POST", "/v1/threads/{thread_id}/messages", plain(counterpart, MESSAGE), owners=owners, variant=counterpart
        ),
        Entry("POST", "/v1/threads/{thread_id}/read", plain(counterpart), owners=owners, variant=counterpart),
        Entry(
            "POST",
            "/v1/threads/{thread_id}/messages/{message_id}/attachments",
            attachment_upload(counterpart),
            owners=("guardian",),  # only the message's author attaches to it
            variant=counterpart,
        ),
        Entry(
            "GET",
            "/v1/threads/{thread_id}/attachments/{attachment_id}",
            attachment_download(counterpart),
            owners=owners,
            variant=counterpart,
        ),
    )
] + [
    Entry(
        "GET",
        "/v1/conversations/regions/{region_code}/response-times",
        region,
        owners=("region_operator", "administrator"),
    )
]
PUBLIC: list[Public] = []


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
