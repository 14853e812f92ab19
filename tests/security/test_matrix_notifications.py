"""Notifications' authorisation matrix: a message in an inbox is its reader's (a person's own, or the group their
token's scope names); nobody else can read it, mark it read or see it listed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world
from tests.support.events import child_registered

pytestmark = pytest.mark.component


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("notifications", stack_servers, service_template, jwks_url) as w:
        yield w


async def message(w: World) -> Case:
    """A ChildRegistered for a new guardian: the message in their inbox."""
    guardian, child = uuid4(), uuid4()
    await w.deliver(child_registered(guardian, child))
    message_id = await w.value("SELECT id::text FROM inbox_message WHERE subject_id = $1", str(child))
    assert message_id, "no inbox message"
    return Case(path={"message_id": message_id}, owners={"subject": w.tokens.parent(guardian)}, marker=message_id)


async def inbox(w: World) -> Case:
    case = await message(w)
    return Case(path={}, owners=case.owners, marker=case.marker)


ENTRIES = [
    Entry("POST", "/v1/inbox/{message_id}/read", message, owners=("subject",)),
    Entry("GET", "/v1/inbox", inbox, owners=("subject",), listing=True, note="no id: each reader's own audiences"),
]
PUBLIC = [
    Public(
        "GET",
        "/v1/inbox/stream",
        "`ticket` is a single-use bearer credential, not an object id: the stream carries only the ticket holder's "
        "own audiences (services/notifications/tests/component/test_stream.py; an in-process client cannot hold "
        "a stream open)",
    ),
]


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
