"""Catalog's authorisation matrix: a provider (its staff, facilities, attestations, programmes, enrolments, bank
details) is its own staff's and the operators' of its region; an enrolment the child's guardian's too; a complaint
its filer's and the region's operators'; a review its author's (edit), the provider's (answer) and the
region's officials' (hide). The catalogue itself (search, a programme's page) is public."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from services.catalog.tests.component.support import (
    child_of,
    confirmed_enrolment,
    month_confirmed,
    programme,
    programme_body,
    provider_body,
    verified_provider,
)
from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world
from tests.support.events import region_event
from tests.support.journeys import synthetic_bin
from tests.support.people import synthetic_adult_iin

pytestmark = pytest.mark.component
Headers = dict[str, str]


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url) -> AsyncIterator[World]:
    async with open_world("catalog", stack_servers, service_template, jwks_url) as w:
        await w.deliver(region_event(region_code="astana"), region_event(region_code="almaty"))
        yield w


def token(w: World) -> Any:
    """The component tests' ``token(role, subject=None, scope=None)``, signed for this world."""
    return w.tokens.claims


def overseers(w: World) -> dict[str, Headers]:
    return {"region_operator": w.tokens.operator("astana"), "administrator": w.tokens.administrator()}


async def provider(w: World) -> tuple[UUID, Headers]:
    """A verified provider of Astana (Yesil) and its staff's headers."""
    return await verified_provider(w.client, token(w), bin=synthetic_bin())


async def published(w: World) -> tuple[UUID, Headers, dict[str, Any]]:
    provider_id, staff = await provider(w)
    return provider_id, staff, await programme(w.client, provider_id, staff)


async def requested(w: World) -> tuple[UUID, Headers, dict[str, Any], Headers]:
    """A programme and a child's enrolment requested by their guardian (not yet confirmed by allocation)."""
    provider_id, staff, prog = await published(w)
    child_id, guardian = await child_of(w.consumer)
    parent = w.tokens.parent(guardian)
    response = await w.client.post(
        "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
    )
    assert response.status_code == 202, response.text
    return provider_id, staff, response.json(), parent


async def confirmed(w: World) -> tuple[UUID, Headers, dict[str, Any], dict[str, Any], Headers]:
    provider_id, staff, prog = await published(w)
    enrolment, parent = await confirmed_enrolment(w.client, w.consumer, token(w), prog)
    return provider_id, staff, prog, enrolment, parent


# --- factories ----------------------------------------------------------------------------------------------


async def provider_case(w: World) -> Case:
    provider_id, staff = await provider(w)
    return Case(path={"provider_id": provider_id}, owners={"own_staff": staff, **overseers(w)})


async def provider_staff(w: World) -> Case:
    case = await provider_case(w)
    body = {"full_name": "Aigerim Coach", "iin": synthetic_adult_iin(), "role": "coach"}
    return Case(path=case.path, owners=case.owners, body=body)


async def provider_facility(w: World) -> Case:
    case = await provider_case(w)
    return Case(path=case.path, owners=case.owners, body={"name": "Ice rink", "address": "Turan 1", "capacity": 30})


async def provider_attestation(w: World) -> Case:
    provider_id, staff = await provider(w)
    coach = await w.client.post(
        f"/v1/providers/{provider_id}/staff",
        json={"full_name": "Aigerim Coach", "iin": synthetic_adult_iin(), "role": "coach"},
        headers=staff,
    )
    assert coach.status_code == 201, coach.text
    body = {
        "subject_type": "staff",
        "subject_id": coach.json()["id"],
        "kind": "criminal_record",
        "number": "CR-0001",
        "valid_until": str(date.today() + timedelta(days=365)),
    }
    return Case(path={"provider_id": provider_id}, owners={"own_staff": staff, **overseers(w)}, body=body)


async def provider_programme(w: World) -> Case:
    case = await provider_case(w)
    return Case(path=case.path, owners=case.owners, body=programme_body())


async def unverified(w: World) -> Case:
    response = await w.client.post(
        "/v1/providers", json=provider_body(bin=synthetic_bin()), headers=w.tokens.headers("provider_staff")
    )
    assert response.status_code == 201, response.text
    return Case(path={"provider_id": response.json()["id"]}, owners=overseers(w), body={"action": "verify"})


async def providers(w: World) -> Case:
    provider_id, _ = await provider(w)
    return Case(path={}, query={"region_code": "astana"}, owners=overseers(w), marker=str(provider_id))


async def registration(w: World) -> Case:
    return Case(
        path={},
        owners={"region_operator": w.tokens.operator("astana")},
        body=provider_body(bin=synthetic_bin()),
        expect=201,
    )


async def programme_case(w: World) -> Case:
    _, staff, prog = await published(w)
    return Case(path={"programme_id": prog["id"]}, owners={"own_staff": staff, **overseers(w)}, body={"capacity": 12})


async def quality(w: World) -> Case:
    _, _, prog = await published(w)
    return Case(path={}, query={"region_code": "astana"}, owners=overseers(w), marker=prog["id"])


async def new_enrolment(w: World) -> Case:
    _, _, prog = await published(w)
    child_id, guardian = await child_of(w.consumer)
    return Case(
        path={},
        owners={"guardian": w.tokens.parent(guardian), "region_operator": w.tokens.operator("astana")},
        body={"child_id": str(child_id), "programme_id": prog["id"]},
    )


async def enrolment(w: World) -> Case:
    _, staff, _, e, parent = await confirmed(w)
    return Case(
        path={"enrolment_id": e["id"], "child_id": e["child_id"], "provider_id": e["provider_id"]},
        owners={"guardian": parent, "own_staff": staff, **overseers(w)},
        body={"reason": "moved"},
        marker=e["id"],
    )


async def requested_enrolment(w: World) -> Case:
    _, staff, e, _ = await requested(w)
    return Case(path={"enrolment_id": e["id"]}, owners={"own_staff": staff}, body={"reason": "full"})


async def club_change(w: World) -> Case:
    provider_id, staff, _, e, parent = await confirmed(w)
    other = await programme(w.client, provider_id, staff)
    return Case(
        path={"enrolment_id": e["id"]},
        owners={"guardian": parent, "region_operator": w.tokens.operator("astana")},
        body={"programme_id": other["id"]},
    )


COMPLAINT = "The coach left the children alone on the ice for an hour."


async def complaint_body(w: World) -> Case:
    _, _, prog, e, parent = await confirmed(w)
    body = {"child_id": e["child_id"], "programme_id": prog["id"], "category": "safety", "text": COMPLAINT}
    return Case(path={}, owners={"guardian": parent}, body=body, expect=201)


async def complaint(w: World) -> Case:
    case = await complaint_body(w)
    filed = await w.client.post("/v1/complaints", json=case.body, headers=case.owners["guardian"])
    assert filed.status_code == 201, filed.text
    return Case(
        path={"complaint_id": filed.json()["id"]},
        query={"programme_id": case.body["programme_id"]},
        owners={"guardian": case.owners["guardian"], **overseers(w)},
        body={"outcome": "upheld", "resolution": "The provider was warned."},
        marker=filed.json()["id"],
    )


async def review_body(w: World) -> Case:
    """A guardian's enrolment with a confirmed, attended month: ready to be reviewed."""
    _, _, _, e, parent = await confirmed(w)
    await w.deliver(month_confirmed(e))
    body = {"enrolment_id": e["id"], "rating": 5, "text": "A patient coach."}
    return Case(path={}, owners={"guardian": parent}, body=body, expect=201)


async def review(w: World) -> Case:
    """A published review of an Astana programme: its author, the provider's staff and the region's officials."""
    _, staff, _, e, parent = await confirmed(w)
    await w.deliver(month_confirmed(e))
    body = {"enrolment_id": e["id"], "rating": 4, "text": "A patient coach."}
    written = await w.client.post("/v1/reviews", json=body, headers=parent)
    assert written.status_code == 201, written.text
    return Case(
        path={"review_id": written.json()["id"]},
        owners={"guardian": parent, "own_staff": staff, **overseers(w)},
    )


async def review_edit(w: World) -> Case:
    case = await review(w)
    return Case(path=case.path, owners=case.owners, body={"rating": 3, "text": "Fine."})


async def review_hide(w: World) -> Case:
    case = await review(w)
    return Case(path=case.path, owners=case.owners, body={"reason_code": "personal_data"})


async def review_answer(w: World) -> Case:
    case = await review(w)
    return Case(path=case.path, owners=case.owners, body={"text": "Thank you!"})


# --- the matrix ---------------------------------------------------------------------------------------------

MANAGERS = ("own_staff", "region_operator", "administrator")
OVERSEERS = ("region_operator", "administrator")
PROVIDER = "/v1/providers/{provider_id}"
ENROLMENT = "/v1/enrolments/{enrolment_id}"
NEW_PROVIDERS_ARE_REGISTERED_BY_STAFF = "provider staff register new providers (verified by the region's operator)"
ENTRIES = [
    Entry("GET", PROVIDER, provider_case, owners=MANAGERS),
    Entry("POST", PROVIDER + "/decision", unverified, owners=OVERSEERS),
    Entry("GET", PROVIDER + "/enrolments", provider_case, owners=MANAGERS),
    Entry("POST", PROVIDER + "/programmes", provider_programme, owners=MANAGERS),
    Entry("POST", PROVIDER + "/staff", provider_staff, owners=MANAGERS),
    Entry("POST", PROVIDER + "/facilities", provider_facility, owners=MANAGERS),
    Entry("POST", PROVIDER + "/attestations", provider_attestation, owners=MANAGERS),
    Entry("GET", PROVIDER + "/attestations/expiring", provider_case, owners=MANAGERS),
    Entry("GET", PROVIDER + "/staff", provider_case, owners=MANAGERS),
    Entry("GET", PROVIDER + "/facilities", provider_case, owners=MANAGERS),
    Entry("GET", PROVIDER + "/programmes", provider_case, owners=MANAGERS),
    Entry("GET", "/v1/providers", providers, owners=OVERSEERS, listing=True),
    Entry(
        "POST",
        "/v1/providers",
        registration,
        owners=("region_operator",),
        refusals=(403, 404, 422),
        allowed={"other_provider": NEW_PROVIDERS_ARE_REGISTERED_BY_STAFF},
        note="the region in the body",
    ),
    Entry("PATCH", "/v1/programmes/{programme_id}", programme_case, owners=MANAGERS),
    Entry("POST", "/v1/programmes/{programme_id}/close", programme_case, owners=MANAGERS),
    Entry(
        "GET",
        "/v1/admin/programmes/quality",
        quality,
        owners=OVERSEERS,
        listing=True,
        refusals=(403, 404, 422),
        note="another region's operator gets 422 naming region_code",
    ),
    Entry(
        "POST",
        "/v1/enrolments",
        new_enrolment,
        owners=("guardian", "region_operator"),
        refusals=(403, 404, 422),
        note="the child and programme in the body",
    ),
    Entry("GET", ENROLMENT, enrolment, owners=("guardian", *MANAGERS)),
    Entry("GET", "/v1/children/{child_id}/enrolments", enrolment, owners=("guardian", "region_operator")),
    Entry("POST", ENROLMENT + "/end", enrolment, owners=("guardian", *MANAGERS)),
    Entry("POST", ENROLMENT + "/decline", requested_enrolment, owners=("own_staff",)),
    Entry("POST", ENROLMENT + "/change-club", club_change, owners=("guardian", "region_operator")),
    Entry(
        "POST",
        "/v1/complaints",
        complaint_body,
        owners=("guardian",),
        refusals=(403, 404, 422),
        note="the child and programme in the body",
    ),
    Entry("GET", "/v1/complaints", complaint, owners=("guardian", *OVERSEERS), listing=True),
    Entry("GET", "/v1/complaints/{complaint_id}", complaint, owners=("guardian", *OVERSEERS)),
    Entry("POST", "/v1/complaints/{complaint_id}/resolve", complaint, owners=OVERSEERS),
    Entry(
        "POST",
        "/v1/reviews",
        review_body,
        owners=("guardian",),
        refusals=(403, 404, 422),
        note="the enrolment in the body",
    ),
    Entry("PUT", "/v1/reviews/{review_id}", review_edit, owners=("guardian",)),
    Entry("POST", "/v1/reviews/{review_id}/hide", review_hide, owners=OVERSEERS),
    Entry("POST", "/v1/reviews/{review_id}/answer", review_answer, owners=("own_staff",)),
]
PUBLIC = [
    Public("GET", "/v1/programmes", "the public catalogue search (published programmes only, no personal data)"),
    Public("GET", "/v1/programmes/{programme_id}", "a published programme's public page"),
    Public("GET", "/v1/programmes/{programme_id}/reviews", "a published programme's visible reviews (no personal ids)"),
    Public("GET", "/v1/consultation-points", "the region's published consultation points (addresses, hours)"),
]


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
