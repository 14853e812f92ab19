"""Registry's authorisation matrix: a child, its guardians and its declared categories are its guardians'; category
decisions, flags and assisted changes are for operators of the child's region (and district, when scoped)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from qosym_contracts.allocation import District, LocalisedName
from qosym_contracts.catalog import EnrolmentConfirmedV1
from tests.security.matrix import Case, Entry, Public, World, check, coverage_problems, open_world
from tests.support.events import region_event
from tests.support.people import synthetic_adult_iin, synthetic_iin, synthetic_phone

pytestmark = pytest.mark.component
NAME = LocalisedName(en="x", kk="x", ru="x")
PDF = b"%PDF-1.7\n" + b"0" * 100


@pytest.fixture(scope="module")
async def world(stack_servers, service_template, jwks_url, tmp_path_factory) -> AsyncIterator[World]:
    home = tmp_path_factory.mktemp("registry-matrix")
    (home / "state-registry.json").write_text("{}")
    async with open_world(
        "registry",
        stack_servers,
        service_template,
        jwks_url,
        evidence_dir=home / "evidence",
        state_registry_file=home / "state-registry.json",
    ) as w:
        districts = [District(code="yesil", name=NAME), District(code="nura", name=NAME)]
        await w.deliver(region_event(districts=districts), region_event(region_code="almaty"))
        yield w


async def person(w: World, **declared: Any) -> tuple[str, str]:
    """A registered adult: (person id, IIN)."""
    iin = synthetic_adult_iin()
    body = {"iin": iin, "phone": synthetic_phone(), "consent": {"data_processing": True}, **declared}
    # an administrator registers at once (anonymous registration goes through a code sent to the phone)
    response = await w.client.post("/v1/people", json=body, headers=w.tokens.administrator())
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), iin


async def family(w: World, **declared: Any) -> dict[str, Any]:
    """A parent and their child registered in Astana (Yesil); ``declared`` child's sex or birth date (the child is
    flagged when they disagree with the IIN)."""
    parent_id, parent_iin = await person(w)
    headers = w.tokens.parent(parent_id)
    child_iin = synthetic_iin(date(2017, 5, 14), "F")
    response = await w.client.post(
        "/v1/children",
        json={"iin": child_iin, "region_code": "astana", "district_code": "yesil", **declared},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return {"parent_id": parent_id, "parent_iin": parent_iin, "headers": headers, "child_id": response.json()["id"]}


async def claim(w: World) -> str:
    f = await family(w)
    response = await w.client.post(
        f"/v1/children/{f['child_id']}/categories",
        data={"code": "orphan"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=f["headers"],
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def operators(w: World) -> dict[str, dict[str, str]]:
    return {"region_operator": w.tokens.operator("astana")}


def overseers(w: World) -> dict[str, dict[str, str]]:
    """Flags: the region's operators, and administrators (who also review people's flags: people have no region)."""
    return {**operators(w), "administrator": w.tokens.administrator()}


# --- factories ----------------------------------------------------------------------------------------------


async def child(w: World) -> Case:
    f = await family(w)
    return Case(path={"child_id": f["child_id"]}, owners={"guardian": f["headers"]}, body={"district_code": "nura"})


async def second_guardian(w: World) -> Case:
    f = await family(w)
    _, iin = await person(w)
    return Case(path={"child_id": f["child_id"]}, owners={"guardian": f["headers"]}, body={"iin": iin}, expect=201)


async def linked_guardian(w: World) -> Case:
    f = await family(w)
    second, iin = await person(w)
    linked = await w.client.post(f"/v1/children/{f['child_id']}/guardians", json={"iin": iin}, headers=f["headers"])
    assert linked.status_code == 201, linked.text
    return Case(path={"child_id": f["child_id"], "guardian_id": second}, owners={"guardian": f["headers"]})


async def evidence(w: World) -> Case:
    f = await family(w)
    return Case(
        path={"child_id": f["child_id"]},
        owners={"guardian": f["headers"]},
        body={"code": "orphan"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
    )


async def category_claim(w: World) -> Case:
    return Case(path={"claim_id": await claim(w)}, owners=operators(w), body={})


async def claim_evidence(w: World) -> Case:
    """A claim's evidence document: the operators of the child's region open it, and the guardian their own upload."""
    f = await family(w)
    uploaded = await w.client.post(
        f"/v1/children/{f['child_id']}/categories",
        data={"code": "orphan"},
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=f["headers"],
    )
    assert uploaded.status_code == 201, uploaded.text
    return Case(path={"claim_id": str(uploaded.json()["id"])}, owners={"guardian": f["headers"], **operators(w)})


async def verified_claim(w: World) -> Case:
    """A verified claim, amended on purpose by the operators of the child's region."""
    claim_id = await claim(w)
    verified = await w.client.post(f"/v1/categories/{claim_id}/verify", json={}, headers=w.tokens.operator("astana"))
    assert verified.status_code == 200, verified.text
    return Case(
        path={"claim_id": claim_id},
        owners=operators(w),
        body={"valid_from": None, "valid_until": "2030-12-31", "reason": "the certificate was renewed"},
    )


async def flagged_child(w: World) -> Case:
    """A child whose declared sex disagrees with their IIN: reviewed by the operators of the child's region."""
    f = await family(w, declared_sex="M")
    return Case(path={"entity": "child", "row_id": f["child_id"]}, owners=overseers(w))


async def assisted_move(w: World) -> Case:
    f = await family(w)
    return Case(
        path={"child_id": f["child_id"]},
        owners=operators(w),
        body={"parent_iin": f["parent_iin"], "district_code": "nura"},
    )


async def assisted_change(w: World) -> Case:
    """A move prepared by an operator of Astana: only that operator confirms it, with the guardian's code."""
    f = await family(w)
    operator = w.tokens.operator("astana")
    started = await w.client.post(
        f"/v1/assisted/children/{f['child_id']}/move",
        json={"parent_iin": f["parent_iin"], "district_code": "nura"},
        headers=operator,
    )
    assert started.status_code == 202, started.text
    code = w.app.state.registry.sms.sent[-1][1].split()[2].rstrip(".")
    return Case(
        path={"change_id": started.json()["change_id"]}, owners={"region_operator": operator}, body={"code": code}
    )


async def assisted_registration(w: World) -> Case:
    _, parent_iin = await person(w)
    return Case(
        path={},
        owners=operators(w),
        body={
            "parent_iin": parent_iin,
            "iin": synthetic_iin(date(2016, 3, 1)),
            "region_code": "astana",
            "district_code": "yesil",
        },
    )


async def pending_claims(w: World) -> Case:
    return Case(path={}, owners=operators(w), marker=await claim(w))


async def flags(w: World) -> Case:
    f = await family(w, declared_sex="M")
    return Case(path={}, owners=overseers(w), marker=f["child_id"])


async def staff_account(w: World) -> Case:
    """An operator's account of Astana: only an administrator changes its scope (and role)."""
    username = f"op.{uuid.uuid4().hex[:8]}"
    created = await w.client.post(
        "/v1/staff",
        json={"username": username, "role": "operator", "scope": {"region": "astana"}},
        headers=w.tokens.administrator(),
    )
    assert created.status_code == 201, created.text
    return Case(
        path={"staff_id": created.json()["id"]},
        owners={"administrator": w.tokens.administrator()},
        body={"role": "operator", "scope": {"region": "almaty"}},
    )


async def enrolled_child(w: World) -> Case:
    """A child enrolled with a provider (catalog's EnrolmentConfirmed): its staff, and administrators, read its name."""
    f = await family(w, name="Aigerim S.")
    provider_id = uuid.uuid4()
    await w.deliver(
        EnrolmentConfirmedV1(
            enrolment_id=uuid.uuid4(),
            child_id=f["child_id"],
            programme_id=uuid.uuid4(),
            provider_id=provider_id,
            voucher_id=uuid.uuid4(),
            direction="sports",
            region_code="astana",
            district_code="yesil",
            price_per_month_tiyn=1_500_000,
            sessions_per_month=8,
        )
    )
    return Case(
        path={"provider_id": provider_id},
        owners={"own_staff": w.tokens.staff(provider_id), "administrator": w.tokens.administrator()},
        marker=f["child_id"],
    )


async def audit_entries(w: World) -> Case:
    """The audit trail's rows of a person just registered: an auditor's and an administrator's, nobody else's."""
    person_id, _ = await person(w)
    return Case(
        path={},
        query={"entity": "person", "entity_id": person_id},
        owners={"administrator": w.tokens.administrator(), "auditor": w.tokens.headers("auditor")},
        marker=person_id,
    )


# --- the matrix ---------------------------------------------------------------------------------------------

GUARDIAN = ("guardian",)
OPERATOR = ("region_operator",)
ENTRIES = [
    Entry("GET", "/v1/children/{child_id}", child, owners=GUARDIAN),
    Entry("PATCH", "/v1/children/{child_id}", child, owners=GUARDIAN),
    Entry("GET", "/v1/children/{child_id}/guardians", child, owners=GUARDIAN),
    Entry("POST", "/v1/children/{child_id}/guardians", second_guardian, owners=GUARDIAN),
    Entry("DELETE", "/v1/children/{child_id}/guardians/{guardian_id}", linked_guardian, owners=GUARDIAN),
    Entry("POST", "/v1/children/{child_id}/categories", evidence, owners=GUARDIAN),
    Entry("GET", "/v1/children/{child_id}/categories", child, owners=GUARDIAN),
    Entry("POST", "/v1/categories/{claim_id}/verify", category_claim, owners=OPERATOR),
    Entry("POST", "/v1/categories/{claim_id}/reject", category_claim, owners=OPERATOR),
    Entry("POST", "/v1/categories/{claim_id}/check", category_claim, owners=OPERATOR),
    Entry("POST", "/v1/categories/{claim_id}/amend", verified_claim, owners=OPERATOR),
    Entry("GET", "/v1/categories/{claim_id}/evidence", claim_evidence, owners=("guardian", "region_operator")),
    Entry("GET", "/v1/review/categories", pending_claims, owners=OPERATOR, listing=True, note="no id: the region's"),
    Entry(
        "GET", "/v1/review/flags", flags, owners=("region_operator", "administrator"), listing=True, note="the region's"
    ),
    Entry(
        "POST", "/v1/review/flags/{entity}/{row_id}/clear", flagged_child, owners=("region_operator", "administrator")
    ),
    Entry(
        "GET",
        "/v1/providers/{provider_id}/children",
        enrolled_child,
        owners=("own_staff", "administrator"),
        note="the provider's own staff: another provider's get 404",
    ),
    Entry("PATCH", "/v1/staff/{staff_id}", staff_account, owners=("administrator",), note="administrators only"),
    Entry("POST", "/v1/assisted/children/{child_id}/move", assisted_move, owners=OPERATOR),
    Entry("POST", "/v1/assisted/{change_id}/confirm", assisted_change, owners=OPERATOR),
    Entry(
        "POST",
        "/v1/assisted/children",
        assisted_registration,
        owners=OPERATOR,
        refusals=(403, 404, 422),
        note="the region in the body: another region's operator gets 422 naming it",
    ),
    Entry(
        "GET",
        "/v1/audit/entries",
        audit_entries,
        owners=("administrator", "auditor"),
        refusals=(403,),
        note="the chassis's audit reader: parents, provider staff, operators and partners get 403",
    ),
]
PUBLIC: list[Public] = []


async def test_every_operation_with_an_id_has_a_matrix_entry(world: World) -> None:
    assert coverage_problems(world.openapi, ENTRIES, PUBLIC) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
async def test_foreign_roles_are_refused_and_owners_succeed(world: World, entry: Entry) -> None:
    await check(world, entry)
