from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from .support import auth, child_of, fetch, programme, programme_body, verified_provider

pytestmark = pytest.mark.component
COACH_IIN = "900101300017"
OTHER_IIN = "061211600012"


def today():
    return datetime.now(UTC).date()


async def attested_coach(client, provider_id, staff, iin=COACH_IIN, days=365):
    coach = await client.post(
        f"/v1/providers/{provider_id}/staff",
        json={"full_name": "Aigerim S.", "iin": iin, "role": "coach"},
        headers=staff,
    )
    assert coach.status_code == 201, coach.text
    for kind in ("criminal_record", "qualification"):
        response = await client.post(
            f"/v1/providers/{provider_id}/attestations",
            json={
                "subject_type": "staff",
                "subject_id": coach.json()["id"],
                "kind": kind,
                "number": f"{kind}-1",
                "valid_until": str(today() + timedelta(days=days)),
            },
            headers=staff,
        )
        assert response.status_code == 201, response.text
    return coach.json()


async def test_staff_iins_are_stored_encrypted_and_shown_masked(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff)
        again = await client.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "Twin", "iin": COACH_IIN, "role": "coach"},
            headers=staff,
        )
        bad = await client.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "X", "iin": "900101300018", "role": "coach"},
            headers=staff,
        )
        foreign = await client.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "X", "iin": OTHER_IIN, "role": "coach"},
            headers=auth(token("provider_staff", scope={"provider": str(uuid4())})),
        )
    assert coach["iin_masked"] == "********0017"
    assert again.status_code == 409
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "iin"
    assert COACH_IIN not in bad.text
    assert foreign.status_code == 404
    rows = await fetch(url, "SELECT iin_ciphertext, iin_index FROM staff")
    assert len(rows) == 1
    assert COACH_IIN.encode() not in bytes(rows[0]["iin_ciphertext"])


async def test_a_programme_needs_attested_coaches_who_are_not_double_booked(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff)
        bare = await client.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "New", "iin": OTHER_IIN, "role": "coach"},
            headers=staff,
        )
        unattested = await client.post(
            f"/v1/providers/{provider_id}/programmes",
            json=programme_body(coach_ids=[bare.json()["id"]]),
            headers=staff,
        )
        first = await programme(client, provider_id, staff, coach_ids=[coach["id"]])
        clash = await client.post(
            f"/v1/providers/{provider_id}/programmes",
            json=programme_body(coach_ids=[coach["id"]], schedule=[{"weekday": 2, "start": "17:00", "end": "18:00"}]),
            headers=staff,
        )
        later = await client.post(
            f"/v1/providers/{provider_id}/programmes",
            json=programme_body(coach_ids=[coach["id"]], schedule=[{"weekday": 2, "start": "17:30", "end": "18:30"}]),
            headers=staff,
        )
        moved_into_clash = await client.patch(
            f"/v1/programmes/{later.json()['id']}",
            json={"schedule": [{"weekday": 4, "start": "15:00", "end": "16:30"}]},
            headers=staff,
        )
    assert unattested.status_code == 422
    assert unattested.json()["errors"][0]["field"] == "coach_ids"
    assert clash.status_code == 422 and clash.json()["errors"][0]["type"] == "coach_overlap"
    assert later.status_code == 201  # back to back with 16:00-17:30 is fine
    assert moved_into_clash.status_code == 422
    assert first["id"] != later.json()["id"]


async def test_lapsed_attestations_stop_enrolments_and_are_listed_ahead(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff, days=10)
        hall = await client.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Hall A", "address": "Main St. 1", "capacity": 30},
            headers=staff,
        )
        wrong_kind = await client.post(
            f"/v1/providers/{provider_id}/attestations",
            json={
                "subject_type": "facility",
                "subject_id": hall.json()["id"],
                "kind": "criminal_record",
                "number": "n",
                "valid_until": str(today()),
            },
            headers=staff,
        )
        for kind, days in (("sanitary", 200), ("fire", 45)):
            await client.post(
                f"/v1/providers/{provider_id}/attestations",
                json={
                    "subject_type": "facility",
                    "subject_id": hall.json()["id"],
                    "kind": kind,
                    "number": "n",
                    "valid_until": str(today() + timedelta(days=days)),
                },
                headers=staff,
            )
        prog = await programme(client, provider_id, staff, coach_ids=[coach["id"]], facility_id=hall.json()["id"])
        expiring = await client.get(f"/v1/providers/{provider_id}/attestations/expiring", headers=staff)
        wider = await client.get(
            f"/v1/providers/{provider_id}/attestations/expiring", params={"within_days": 60}, headers=staff
        )
        await fetch(url, "UPDATE attestation SET valid_until = $1 WHERE kind = 'qualification'", today() - timedelta(1))
        child_id, guardian_id = await child_of(c)
        refused = await client.post(
            "/v1/enrolments",
            json={"child_id": str(child_id), "programme_id": prog["id"]},
            headers=auth(token("parent", subject=str(guardian_id))),
        )
        listed = await client.get(f"/v1/providers/{provider_id}/attestations/expiring", headers=staff)
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "kind"
    assert {(e["name"], e["kind"]) for e in expiring.json()["items"]} == {
        ("Aigerim S.", "criminal_record"),
        ("Aigerim S.", "qualification"),
    }
    assert ("Hall A", "fire") in {(e["name"], e["kind"]) for e in wider.json()["items"]}
    assert refused.status_code == 409
    assert "qualification" in refused.json()["detail"]
    assert any(e["expired"] for e in listed.json()["items"])


async def test_a_provider_lists_its_own_staff_and_facilities(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff)
        hall = await client.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Hall 1", "address": "Kabanbay Batyr Ave., 45", "capacity": 20},
            headers=staff,
        )
        assert hall.status_code == 201, hall.text
        listed_staff = await client.get(f"/v1/providers/{provider_id}/staff", headers=staff)
        listed_halls = await client.get(f"/v1/providers/{provider_id}/facilities", headers=staff)
        stranger = auth(token("provider_staff", scope={"provider": str(uuid4())}))
        foreign = await client.get(f"/v1/providers/{provider_id}/staff", headers=stranger)
        foreign_halls = await client.get(f"/v1/providers/{provider_id}/facilities", headers=stranger)
    assert listed_staff.status_code == 200, listed_staff.text
    assert listed_staff.json()["total"] == 1
    [member] = listed_staff.json()["items"]
    assert member == {"id": coach["id"], "full_name": "Aigerim S.", "role": "coach", "iin_masked": "********0017"}
    assert listed_halls.status_code == 200, listed_halls.text
    assert [(f["id"], f["name"], f["capacity"]) for f in listed_halls.json()["items"]] == [
        (hall.json()["id"], "Hall 1", 20)
    ]
    assert (foreign.status_code, foreign_halls.status_code) == (404, 404)
