"""An expired attestation suspends the affected programmes; a renewed one restores them."""

from datetime import timedelta
from uuid import UUID

import pytest

from .support import auth, child_of, fetch, outbox_types, periodic, programme, verified_provider
from .test_staff_and_attestations import OTHER_IIN, attested_coach, today

pytestmark = pytest.mark.component
CHESS = {"kk": "Шахмат", "ru": "Шахматы", "en": "Chess"}


async def status_of(url: str, programme_id: str) -> str:
    rows = await fetch(url, "SELECT status FROM programme WHERE id = $1", UUID(programme_id))
    return str(rows[0]["status"])


async def changed_events(url: str) -> int:
    return (await outbox_types(url)).count("catalog.ProgrammeChanged")


async def attested_facility(client, provider_id, staff, name):
    hall = (
        await client.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": name, "address": "Main 1", "capacity": 30},
            headers=staff,
        )
    ).json()
    for kind in ("sanitary", "fire"):
        response = await client.post(
            f"/v1/providers/{provider_id}/attestations",
            json={
                "subject_type": "facility",
                "subject_id": hall["id"],
                "kind": kind,
                "number": "n",
                "valid_until": str(today() + timedelta(days=90)),
            },
            headers=staff,
        )
        assert response.status_code == 201, response.text
    return hall


async def test_an_expired_certificate_suspends_the_programme_until_a_valid_one_is_recorded(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        interval, sweep = periodic(c, "sweep_attestations")
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff)
        other = await attested_coach(client, provider_id, staff, iin=OTHER_IIN)
        affected = await programme(client, provider_id, staff, coach_ids=[coach["id"]])
        unaffected = await programme(client, provider_id, staff, coach_ids=[other["id"]], title=CHESS)
        before = await client.get("/v1/programmes")  # cached until something bumps the version
        await fetch(
            url,
            "UPDATE attestation SET valid_until = $1 WHERE subject_id = $2 AND kind = 'criminal_record'",
            today() - timedelta(days=1),
            UUID(coach["id"]),
        )
        not_yet_swept = await client.get("/v1/programmes", params={"limit": 50})  # another (uncached) page
        events_before = await changed_events(url)

        moved = await sweep()
        status_after_sweep = await status_of(url, affected["id"])
        events_after_sweep = await changed_events(url)
        again = await sweep()
        events_after_second_sweep = await changed_events(url)
        after = await client.get("/v1/programmes")
        one = await client.get(f"/v1/programmes/{affected['id']}")
        child_id, guardian_id = await child_of(c)
        refused = await client.post(
            "/v1/enrolments",
            json={"child_id": str(child_id), "programme_id": affected["id"]},
            headers=auth(token("parent", subject=str(guardian_id))),
        )

        renewed = await client.post(
            f"/v1/providers/{provider_id}/attestations",
            json={
                "subject_type": "staff",
                "subject_id": coach["id"],
                "kind": "criminal_record",
                "number": "criminal_record-2",
                "valid_until": str(today() + timedelta(days=365)),
            },
            headers=staff,
        )
        status_after_renewal = await status_of(url, affected["id"])
        events_after_renewal = await changed_events(url)
        restored = await client.get("/v1/programmes")
        after_renewal_sweep = await sweep()

    assert interval == 3600
    assert {p["id"] for p in before.json()["items"]} == {affected["id"], unaffected["id"]}
    assert [p["id"] for p in not_yet_swept.json()["items"]] == [unaffected["id"]]
    assert moved == 2 and status_after_sweep == "suspended"  # the programme, and the provider's expiry notice
    assert events_after_sweep == events_before + 1
    assert again == 0 and events_after_second_sweep == events_after_sweep  # idempotent: nothing published
    assert [p["id"] for p in after.json()["items"]] == [unaffected["id"]]  # the cached page was invalidated
    assert one.status_code == 404
    assert refused.status_code == 409
    assert "suspended" in refused.json()["detail"] and "criminal_record" in refused.json()["detail"]
    assert await status_of(url, unaffected["id"]) == "published"
    assert renewed.status_code == 201, renewed.text
    assert status_after_renewal == "published"
    assert events_after_renewal == events_after_sweep + 1
    assert {p["id"] for p in restored.json()["items"]} == {affected["id"], unaffected["id"]}
    assert after_renewal_sweep == 0
    statuses = await fetch(
        url, "SELECT payload->>'status' AS status FROM outbox WHERE event_type = 'catalog.ProgrammeChanged' ORDER BY id"
    )
    assert [row["status"] for row in statuses][-2:] == [
        "suspended",
        "published",
    ]  # partners can tell a suspension from a change


async def test_a_facility_without_a_valid_fire_attestation_suspends_and_a_change_can_restore(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        _, sweep = periodic(c, "sweep_attestations")
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff)
        hall = await attested_facility(client, provider_id, staff, "Hall")
        gym = await attested_facility(client, provider_id, staff, "Gym")
        prog = await programme(client, provider_id, staff, coach_ids=[coach["id"]], facility_id=hall["id"])
        # the hall has no fire attestation at all any more
        await fetch(url, "DELETE FROM attestation WHERE kind = 'fire' AND subject_id = $1", UUID(hall["id"]))

        moved = await sweep()
        suspended = await status_of(url, prog["id"])
        moved_out = await client.patch(f"/v1/programmes/{prog['id']}", json={"facility_id": gym["id"]}, headers=staff)
        after_change = await status_of(url, prog["id"])
        found = await client.get("/v1/programmes")

    assert moved == 1 and suspended == "suspended"
    assert moved_out.status_code == 200, moved_out.text
    assert after_change == "published"
    assert [p["id"] for p in found.json()["items"]] == [prog["id"]]
