"""What other services read from catalog's events: programme staffing and titles, a provider's bank account,
and the reminders of expiring attestations (once per attestation and state)."""

import json
from datetime import timedelta
from uuid import UUID

import pytest

from .support import IBAN, fetch, periodic, programme, programme_body, verified_provider
from .test_staff_and_attestations import OTHER_IIN, attested_coach, today
from .test_suspension import attested_facility

pytestmark = pytest.mark.component


async def payloads(url: str, event_type: str) -> list[dict]:
    rows = await fetch(url, "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id", event_type)
    return [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows]


async def test_programme_events_carry_title_coaches_and_the_facility_capacity(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff)
        other = await attested_coach(client, provider_id, staff, iin=OTHER_IIN)
        hall = await attested_facility(client, provider_id, staff, "Hall")
        prog = await programme(client, provider_id, staff, coach_ids=[coach["id"]], facility_id=hall["id"])
        changed = await client.patch(f"/v1/programmes/{prog['id']}", json={"coach_ids": [other["id"]]}, headers=staff)
    assert changed.status_code == 200, changed.text
    [verified] = await payloads(url, "catalog.ProviderVerified")
    assert (verified["iban"], verified["bank_bic"]) == (IBAN, "HSBKKZKX")
    [published] = await payloads(url, "catalog.ProgrammePublished")
    assert published["title"] == {"kk": "Хоккей", "ru": "Хоккей", "en": "Hockey"}
    assert published["coach_ids"] == [coach["id"]]
    assert (published["facility_id"], published["facility_capacity"]) == (hall["id"], 30)
    [change] = await payloads(url, "catalog.ProgrammeChanged")
    assert change["coach_ids"] == [other["id"]] and change["facility_capacity"] == 30


async def test_a_facility_has_a_capacity_and_a_group_must_fit_it(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await verified_provider(client, token)
        missing = await client.post(
            f"/v1/providers/{provider_id}/facilities", json={"name": "Hall", "address": "Main 1"}, headers=staff
        )
        as_text = await client.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Hall", "address": "Main 1", "capacity": "30"},
            headers=staff,
        )
        hall = await attested_facility(client, provider_id, staff, "Hall")  # capacity 30
        too_big = await client.post(
            f"/v1/providers/{provider_id}/programmes",
            json={**programme_body(), "capacity": 31, "facility_id": hall["id"]},
            headers=staff,
        )
        fits = await programme(client, provider_id, staff, capacity=30, facility_id=hall["id"])
        grown = await client.patch(f"/v1/programmes/{fits['id']}", json={"capacity": 40}, headers=staff)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "capacity"
    assert as_text.status_code == 422 and as_text.json()["errors"][0]["field"] == "capacity"
    assert hall["capacity"] == 30
    assert too_big.status_code == 422 and too_big.json()["errors"][0]["field"] == "capacity"
    assert "30" in too_big.json()["errors"][0]["message"]
    assert grown.status_code == 422 and grown.json()["errors"][0]["field"] == "capacity"
    rows = await fetch(url, "SELECT count(*) AS n FROM programme")
    assert rows[0]["n"] == 1


async def test_expiring_attestations_are_announced_once_per_state(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        _, sweep = periodic(c, "sweep_attestations")
        provider_id, staff = await verified_provider(client, token)
        coach = await attested_coach(client, provider_id, staff, days=10)  # within the 30-day warning window
        far = await attested_coach(client, provider_id, staff, iin=OTHER_IIN, days=200)
        await programme(client, provider_id, staff, coach_ids=[coach["id"]])
        first = await payloads(url, "catalog.AttestationExpiring")  # recording an attestation runs the sweep
        again = await sweep()
        after_again = await payloads(url, "catalog.AttestationExpiring")
        await fetch(
            url,
            "UPDATE attestation SET valid_until = $1 WHERE subject_id = $2 AND kind = 'qualification'",
            today() - timedelta(days=1),
            UUID(coach["id"]),
        )
        lapsed = await sweep()
        after_lapse = await payloads(url, "catalog.AttestationExpiring")
        third = await sweep()
        renewed = await client.post(
            f"/v1/providers/{provider_id}/attestations",
            json={
                "subject_type": "staff",
                "subject_id": coach["id"],
                "kind": "qualification",
                "number": "q-2",
                "valid_until": str(today() + timedelta(days=365)),
            },
            headers=staff,
        )
        after_renewal = await payloads(url, "catalog.AttestationExpiring")
    assert {(e["subject_id"], e["kind"], e["expired"]) for e in first} == {
        (coach["id"], "criminal_record", False),
        (coach["id"], "qualification", False),
    }
    assert all(e["provider_id"] == str(provider_id) and e["region_code"] == "astana" for e in first)
    assert all(e["subject_type"] == "staff" for e in first)
    assert far["id"] not in {e["subject_id"] for e in first}
    assert again == 0 and after_again == first
    assert lapsed == 2  # the programme is suspended, and one "expired" notice
    [expired] = after_lapse[len(first) :]
    assert (expired["kind"], expired["expired"], expired["valid_until"]) == (
        "qualification",
        True,
        str(today() - timedelta(days=1)),
    )
    assert third == 0
    assert renewed.status_code == 201
    assert after_renewal == after_lapse  # the renewal restores the programme; nothing more to announce
    keys = await fetch(url, "SELECT state, count(*) AS n FROM attestation_notice GROUP BY state ORDER BY state")
    assert [(k["state"], k["n"]) for k in keys] == [("expired", 1), ("expiring", 2)]
