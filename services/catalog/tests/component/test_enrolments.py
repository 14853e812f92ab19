import asyncio
from uuid import UUID, uuid4

import asyncpg
import pytest

from qosym_chassis.consumer import Outcome
from qosym_contracts.allocation import VoucherAssignedV1, VoucherAssignmentRejectedV1
from qosym_contracts.registry import GuardianshipEndedV1
from tests.support.events import message

from .support import (
    assigned,
    auth,
    change_club,
    child_of,
    confirmed_enrolment,
    enrolment_voucher,
    fetch,
    operator_of,
    outbox_payloads,
    outbox_types,
    programme,
    requested_payload,
    seats,
    status_of,
    two_clubs,
    verified_provider,
)

pytestmark = pytest.mark.component


async def test_the_saga_confirms_when_allocation_assigns_a_voucher(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        child_id, guardian_id = await child_of(c)
        parent = auth(token("parent", subject=str(guardian_id)))
        requested = await client.post(
            "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
        )
        assert requested.status_code == 202, requested.text
        enrolment = requested.json()
        assert enrolment["status"] == "requested"
        assert await seats(url, prog["id"]) == 1
        payload = await requested_payload(url)
        assert payload["enrolment_id"] == enrolment["id"]
        assert (payload["direction"], payload["region_code"], payload["district_code"]) == ("sports", "astana", "yesil")
        assert (payload["age_min"], payload["age_max"], payload["provider_id"]) == (6, 10, str(provider_id))

        event = assigned(enrolment)
        assert await c.deliver(message(event)) is Outcome.APPLIED
        assert await c.deliver(message(event)) is Outcome.DUPLICATE
        # the same answer under a new event id confirms nothing twice
        assert await c.deliver(message(VoucherAssignedV1(**{**event.model_dump(), "event_id": uuid4()})))
        seen = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)
        provider_view = await client.get(f"/v1/providers/{provider_id}/enrolments", headers=staff)
        mine = await client.get(f"/v1/children/{child_id}/enrolments", headers=parent)
    assert seen.json()["status"] == "confirmed"
    assert seen.json()["voucher_id"] == str(event.voucher_id)
    assert [e["id"] for e in provider_view.json()["items"]] == [enrolment["id"]]
    assert [e["id"] for e in mine.json()["items"]] == [enrolment["id"]]
    assert await seats(url, prog["id"]) == 1
    assert (await outbox_types(url)).count("catalog.EnrolmentConfirmed") == 1


async def test_the_saga_releases_the_seat_when_allocation_rejects(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff, capacity=1)
        child_id, guardian_id = await child_of(c)
        parent = auth(token("parent", subject=str(guardian_id)))
        enrolment = (
            await client.post(
                "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
            )
        ).json()
        full = await client.get("/v1/programmes", params={"free_seats": True})
        rejection = VoucherAssignmentRejectedV1(
            enrolment_id=enrolment["id"], child_id=child_id, reason="no_valid_voucher"
        )
        assert await c.deliver(message(rejection)) is Outcome.APPLIED
        assert await c.deliver(message(rejection)) is Outcome.DUPLICATE
        # the same answer under a new event id changes nothing either
        assert await c.deliver(message(VoucherAssignmentRejectedV1(**{**rejection.model_dump(), "event_id": uuid4()})))
        seen = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)
        free_again = await client.get("/v1/programmes", params={"free_seats": True})
    assert full.json()["total"] == 0
    assert (seen.json()["status"], seen.json()["reason"]) == ("rejected", "no_valid_voucher")
    assert await seats(url, prog["id"]) == 0
    assert free_again.json()["total"] == 1  # the search cache was invalidated by the consumer
    assert (await outbox_types(url)).count("catalog.EnrolmentRejected") == 1


async def test_exactly_capacity_reservations_succeed_under_concurrency(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff, capacity=5)
        children = [await child_of(c) for _ in range(25)]

        async def request(child_id: UUID, guardian_id: UUID) -> int:
            response = await client.post(
                "/v1/enrolments",
                json={"child_id": str(child_id), "programme_id": prog["id"]},
                headers=auth(token("parent", subject=str(guardian_id))),
            )
            return response.status_code

        codes = await asyncio.gather(*(request(ch, g) for ch, g in children))
    assert sorted(codes).count(202) == 5
    assert sorted(codes).count(409) == 20
    assert await seats(url, prog["id"]) == 5
    rows = await fetch(url, "SELECT count(*) AS n FROM enrolment WHERE status = 'requested'")
    assert rows[0]["n"] == 5
    assert (await outbox_types(url)).count("catalog.EnrolmentRequested") == 5


async def test_the_database_refuses_more_reservations_than_capacity(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff, capacity=1)
    with pytest.raises(asyncpg.CheckViolationError, match=r"ck_programme_seats|check constraint"):
        await fetch(url, "UPDATE programme SET reserved = 2 WHERE id = $1", UUID(prog["id"]))


async def test_a_parent_cannot_enrol_or_see_another_familys_child(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        child_id, guardian_id = await child_of(c)
        parent = auth(token("parent", subject=str(guardian_id)))
        stranger = auth(token("parent", subject=str(uuid4())))
        foreign = await client.post(
            "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=stranger
        )
        enrolment = (
            await client.post(
                "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
            )
        ).json()
        peek = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=stranger)
        end = await client.post(f"/v1/enrolments/{enrolment['id']}/end", json={"reason": "x"}, headers=stranger)
        children = await client.get(f"/v1/children/{child_id}/enrolments", headers=stranger)
        other_staff = auth(token("provider_staff", scope={"provider": str(uuid4())}))
        provider_peek = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=other_staff)
        wrong_role = await client.post(
            "/v1/enrolments",
            json={"child_id": str(child_id), "programme_id": prog["id"]},
            headers=auth(token("provider_staff")),
        )
        twice = await client.post(
            "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
        )
        await c.deliver(message(GuardianshipEndedV1(child_id=child_id, guardian_id=guardian_id)))
        former = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)
    assert (foreign.status_code, peek.status_code, end.status_code, children.status_code) == (404, 404, 404, 404)
    assert provider_peek.status_code == 404
    assert wrong_role.status_code == 403
    assert twice.status_code == 409
    assert former.status_code == 404
    assert await seats(url, prog["id"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"child_id": "not-a-uuid", "programme_id": str(uuid4())}, "child_id"),
        ({"programme_id": str(uuid4())}, "child_id"),
        ({"child_id": str(uuid4()), "programme_id": str(uuid4()), "extra": 1}, "extra"),
    ],
)
async def test_bad_enrolment_input_is_422(service_db, api_client, token, body, field) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.post("/v1/enrolments", json=body, headers=auth(token("parent", subject=str(uuid4()))))
    assert response.status_code == 422
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_a_child_outside_the_age_band_is_422(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff, age_min=12, age_max=16)
        child_id, guardian_id = await child_of(c)
        response = await client.post(
            "/v1/enrolments",
            json={"child_id": str(child_id), "programme_id": prog["id"]},
            headers=auth(token("parent", subject=str(guardian_id))),
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "child_id"
    assert await seats(url, prog["id"]) == 0


async def test_ending_frees_the_seat_and_tells_allocation(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        ended = await client.post(f"/v1/enrolments/{enrolment['id']}/end", json={"reason": "moved"}, headers=parent)
        again = await client.post(f"/v1/enrolments/{enrolment['id']}/end", json={"reason": "moved"}, headers=parent)
        other, _ = await confirmed_enrolment(client, c, token, prog)
        by_provider = await client.post(f"/v1/enrolments/{other['id']}/end", json={"reason": "rules"}, headers=staff)
    assert (ended.json()["status"], ended.json()["reason"]) == ("ended", "moved")
    assert again.status_code == 409
    assert by_provider.json()["status"] == "ended"
    assert await seats(url, prog["id"]) == 0
    assert (await outbox_types(url)).count("catalog.EnrolmentEnded") == 2


async def test_the_provider_declines_within_the_window(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        by_parent = await client.post(f"/v1/enrolments/{enrolment['id']}/decline", json={"reason": "x"}, headers=parent)
        declined = await client.post(
            f"/v1/enrolments/{enrolment['id']}/decline", json={"reason": "group full"}, headers=staff
        )
        late, _ = await confirmed_enrolment(client, c, token, prog)
        await fetch(
            url,
            "UPDATE enrolment SET requested_at = now() - interval '30 days' WHERE id = $1 RETURNING id",
            UUID(late["id"]),
        )
        too_late = await client.post(f"/v1/enrolments/{late['id']}/decline", json={"reason": "x"}, headers=staff)
    assert by_parent.status_code == 403
    assert declined.json()["status"] == "ended"
    assert declined.json()["reason"].startswith("declined_by_provider")
    assert too_late.status_code == 409


async def test_changing_club_to_another_region_is_refused_before_anything_ends(
    service_db, consumer, api_client, token
) -> None:
    """Issue 13, finding 7: the old code ended the confirmed enrolment first, then allocation refused the new one
    (wrong_region) and the child was left with neither. Now the check comes first and nothing changes."""
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        here = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, here)
        far_id, far_staff = await verified_provider(
            client, token, bin="080540014031", region_code="almaty", district_code="medeu"
        )
        far = await programme(client, far_id, far_staff, district_code="medeu")
        assert far["region_code"] == "almaty"
        before = await outbox_types(url)
        moved = await change_club(client, enrolment, parent, far["id"])
        kept = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)
    assert moved.status_code == 422, moved.text
    assert moved.headers["content-type"].startswith("application/problem+json")
    assert "programme_id" in moved.text
    assert kept.json()["status"] == "confirmed" and kept.json()["voucher_id"] == enrolment_voucher(kept.json())
    assert (await seats(url, here["id"]), await seats(url, far["id"])) == (1, 0)
    assert await outbox_types(url) == before


async def test_changing_club_keeps_the_old_seat_until_allocation_has_moved_the_voucher(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        w = await two_clubs(client, consumer, token, url)
        c, first, second, enrolment, parent = w.consumer, w.first, w.second, w.enrolment, w.parent
        moved = await change_club(client, enrolment, parent, second["id"], "Айгерим prefers the evening group")
        assert moved.status_code == 202, moved.text
        new = moved.json()
        assert new["programme_id"] == second["id"] and new["status"] == "requested"
        # nothing has ended yet: both seats are held while allocation decides
        assert await status_of(url, enrolment["id"]) == "confirmed"
        assert (await seats(url, first["id"]), await seats(url, second["id"])) == (1, 1)
        assert (await outbox_types(url))[-1] == "catalog.EnrolmentRequested"
        assert (await requested_payload(url))["replaces_enrolment_id"] == enrolment["id"]
        # one change at a time, and the pending one is allocation's to decide
        again = await change_club(client, enrolment, parent, second["id"])
        assert again.status_code in (409, 422)
        ended_early = await client.post(f"/v1/enrolments/{new['id']}/end", json={"reason": "x"}, headers=parent)
        assert ended_early.status_code == 409
        # allocation moved the voucher (VoucherAssigned for the new enrolment): now the old one ends
        voucher = (await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)).json()["voucher_id"]
        assert await c.deliver(message(assigned(new, UUID(voucher)))) is Outcome.APPLIED
        old_now = (await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)).json()
        new_now = (await client.get(f"/v1/enrolments/{new['id']}", headers=parent)).json()
    assert (old_now["status"], new_now["status"]) == ("ended", "confirmed")
    assert old_now["reason"] == "Айгерим prefers the evening group"  # the family's words stay in catalog
    assert (await seats(url, first["id"]), await seats(url, second["id"])) == (0, 1)
    assert (await outbox_types(url))[-2:] == ["catalog.EnrolmentEnded", "catalog.EnrolmentConfirmed"]
    [ended] = await outbox_payloads(url, "catalog.EnrolmentEnded")
    assert (ended["enrolment_id"], ended["reason"]) == (enrolment["id"], "changed_club")  # a code on the bus


async def test_a_change_of_club_allocation_refuses_leaves_the_child_in_the_old_club(
    service_db, consumer, api_client, token
) -> None:
    """The compensation path, driven through the real consumer: VoucherAssignmentRejected for the new enrolment
    rejects only it; the old enrolment was never ended and keeps its seat and voucher."""
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        w = await two_clubs(client, consumer, token, url, direction="creativity")
        c, first, second, enrolment, parent = w.consumer, w.first, w.second, w.enrolment, w.parent
        moved = await change_club(client, enrolment, parent, second["id"], "wants to draw")
        assert moved.status_code == 202, moved.text
        new = moved.json()
        refusal = VoucherAssignmentRejectedV1(
            enrolment_id=UUID(new["id"]), child_id=UUID(new["child_id"]), reason="no_valid_voucher"
        )
        assert await c.deliver(message(refusal)) is Outcome.APPLIED
        assert await c.deliver(message(refusal)) is Outcome.DUPLICATE
        old_now = (await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)).json()
        new_now = (await client.get(f"/v1/enrolments/{new['id']}", headers=parent)).json()
        # the child may try again (the refused change no longer blocks another)
        retry = await change_club(client, enrolment, parent, second["id"])
    assert (old_now["status"], old_now["voucher_id"], old_now["reason"]) == (
        "confirmed",
        enrolment_voucher(old_now),
        None,
    )
    assert (new_now["status"], new_now["reason"]) == ("rejected", "no_valid_voucher")
    assert "catalog.EnrolmentEnded" not in await outbox_types(url)
    assert [r["reason"] for r in await outbox_payloads(url, "catalog.EnrolmentRejected")] == ["no_valid_voucher"]
    assert retry.status_code == 202, retry.text
    assert (await seats(url, first["id"]), await seats(url, second["id"])) == (1, 1)


async def test_a_change_whose_new_programme_closed_asks_for_the_voucher_back(
    service_db, consumer, api_client, token
) -> None:
    """The new programme closed while allocation was deciding, and then the voucher arrived: catalog asks allocation
    to move it back to the old (still confirmed) enrolment instead of releasing it."""
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        w = await two_clubs(client, consumer, token, url)
        c, staff, first, second, enrolment, parent = w.consumer, w.staff, w.first, w.second, w.enrolment, w.parent
        new = (await change_club(client, enrolment, parent, second["id"])).json()
        assert (await client.post(f"/v1/programmes/{second['id']}/close", headers=staff)).status_code == 200
        voucher = (await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)).json()["voucher_id"]
        await c.deliver(message(assigned(new, UUID(voucher))))
        old_now = (await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)).json()
    assert old_now["status"] == "confirmed"
    back = await requested_payload(url)
    assert (back["enrolment_id"], back["replaces_enrolment_id"]) == (enrolment["id"], new["id"])
    ended = await outbox_payloads(url, "catalog.EnrolmentEnded")
    assert [e["enrolment_id"] for e in ended] == [new["id"]]  # only the closed programme's, not a hand-back
    assert (await seats(url, first["id"]), await seats(url, second["id"])) == (1, 0)


async def test_end_reasons_stay_in_catalog_and_a_code_travels(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        by_parent, parent = await confirmed_enrolment(client, c, token, prog)
        by_staff, _ = await confirmed_enrolment(client, c, token, prog)
        hostile = [
            {"reason": "a\u0000b"},
            {"reason": "line\nbreak"},
            {"reason": "x" * 201},
            {"reason": ""},
        ]
        refused = [
            await client.post(f"/v1/enrolments/{by_parent['id']}/end", json=body, headers=parent) for body in hostile
        ]
        left = await client.post(
            f"/v1/enrolments/{by_parent['id']}/end", json={"reason": "Мы переезжаем в Караганду"}, headers=parent
        )
        ended = await client.post(
            f"/v1/enrolments/{by_staff['id']}/end", json={"reason": "the coach left"}, headers=staff
        )
    assert [r.status_code for r in refused] == [422, 422, 422, 422], [r.text for r in refused]
    assert all("reason" in r.text for r in refused)
    assert left.json()["reason"] == "Мы переезжаем в Караганду" and ended.json()["reason"] == "the coach left"
    payloads = await outbox_payloads(url, "catalog.EnrolmentEnded")
    assert [(p["enrolment_id"], p["reason"]) for p in payloads] == [
        (by_parent["id"], "left"),
        (by_staff["id"], "ended_by_provider"),
    ]


async def test_closing_a_programme_ends_its_enrolments(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        await confirmed_enrolment(client, c, token, prog)
        closed = await client.post(f"/v1/programmes/{prog['id']}/close", headers=staff)
    assert closed.json() == {"enrolments_ended": 1}
    assert (await outbox_types(url))[-2:] == ["catalog.EnrolmentEnded", "catalog.ProgrammeClosed"]


async def test_a_suspended_provider_takes_no_new_enrolments_but_keeps_existing(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        await client.post(
            f"/v1/providers/{provider_id}/decision",
            json={"action": "suspend", "reason": "audit"},
            headers=operator_of(token),
        )
        child_id, guardian_id = await child_of(c)
        refused = await client.post(
            "/v1/enrolments",
            json={"child_id": str(child_id), "programme_id": prog["id"]},
            headers=auth(token("parent", subject=str(guardian_id))),
        )
        kept = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)
    assert refused.status_code == 409
    assert kept.json()["status"] == "confirmed"


async def test_a_voucher_assigned_after_the_parent_withdrew_is_handed_back(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        child_id, guardian_id = await child_of(c)
        parent = auth(token("parent", subject=str(guardian_id)))
        enrolment = (
            await client.post(
                "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
            )
        ).json()
        await client.post(f"/v1/enrolments/{enrolment['id']}/end", json={"reason": "changed mind"}, headers=parent)
        await c.deliver(message(assigned(enrolment)))
        seen = await client.get(f"/v1/enrolments/{enrolment['id']}", headers=parent)
    assert seen.json()["status"] == "ended"
    assert (await outbox_types(url)).count("catalog.EnrolmentEnded") == 2
    assert await seats(url, prog["id"]) == 0
