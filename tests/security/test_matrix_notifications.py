"""Notifications' authorisation matrix: a message in an inbox is its reader's (a person's own, or the group their
token's scope names); nobody else can read it, mark it read or see it listed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from qosym_contracts.attendance import AttendanceDisputedV1
from services.notifications.tests.component.support import guardian_of
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


async def group_messages(w: World) -> tuple[str, str, str]:
    """An AttendanceDisputed in Astana: a message to the provider's staff and one to Astana's operators."""
    provider_id, dispute_id, child = uuid4(), uuid4(), uuid4()
    await w.deliver(guardian_of(child, uuid4()))
    await w.deliver(
        AttendanceDisputedV1(
            timesheet_id=uuid4(),
            enrolment_id=uuid4(),
            child_id=child,
            programme_id=uuid4(),
            provider_id=provider_id,
            region_code="astana",
            period="2026-10",
            planned_sessions=8,
            dispute_id=dispute_id,
            disputed_sessions=1,
        )
    )
    rows = {
        r["audience"]: str(r["id"])
        for r in await w.conn.fetch("SELECT audience, id FROM inbox_message WHERE subject_id = $1", str(dispute_id))
    }
    return str(provider_id), rows[f"provider:{provider_id}"], rows["operators:astana"]


async def provider_message(w: World) -> Case:
    provider_id, message_id, _ = await group_messages(w)
    return Case(path={"message_id": message_id}, owners={"own_staff": w.tokens.staff(provider_id)}, marker=message_id)


async def operators_message(w: World) -> Case:
    _, _, message_id = await group_messages(w)
    return Case(
        path={"message_id": message_id}, owners={"region_operator": w.tokens.operator("astana")}, marker=message_id
    )


async def inbox(w: World) -> Case:
    case = await message(w)
    return Case(path={}, owners=case.owners, marker=case.marker)


READ = "/v1/inbox/{message_id}/read"
ENTRIES = [
    Entry("POST", "/v1/inbox/{message_id}/read", message, owners=("subject",), variant="a parent's"),
    Entry("POST", READ, provider_message, owners=("own_staff",), variant="a provider's staff's"),
    Entry("POST", READ, operators_message, owners=("region_operator",), variant="a region's operators'"),
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
