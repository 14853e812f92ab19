"""The catalog issue's done-when journey, tried as a new user would on ``qosym up``.

A provider registers, an operator verifies it, it adds a coach with a valid certificate and publishes a programme;
a parent with a voucher finds it by district and age and enrols; the 11th of 11 concurrent requests for a 10-seat
group is refused with a clear reason while exactly 10 are confirmed; a coach's certificate expires (catalog's clock
is moved past it) and the sweep suspends the group: the search hides it and enrolment is refused with the reason;
a parent changes club and keeps the voucher.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from tests.support.journeys import (
    award_vouchers,
    bearer,
    client,
    enrol,
    new_family,
    publish_programme,
    request_enrolment,
    verified_provider,
    wait_for_enrolment,
    wait_until_catalog_knows,
)
from tests.support.stack_ops import db_value, shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
DAY_S = 86_400
FOOTBALL = {"kk": "Футбол", "ru": "Футбол", "en": "Football"}
CHESS = {"kk": "Шахмат", "ru": "Шахматы", "en": "Chess"}
JUDO = {"kk": "Дзюдо", "ru": "Дзюдо", "en": "Judo"}
SHARED_FIELDS = (
    "direction",
    "description",
    "age_min",
    "age_max",
    "language",
    "sessions_per_month",
    "price_per_month_tiyn",
    "capacity",
    "district_code",
    "address",
    "lat",
    "lon",
)


def age_today(born: date) -> int:
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def test_catalog_journey(running_stack, token) -> None:
    stack = running_stack
    # --- a provider registers, is verified, adds an attested coach and a facility, publishes -----------------
    provider = verified_provider(stack, token)
    swimming = publish_programme(stack, provider)
    group = publish_programme(
        stack,
        provider,
        title=FOOTBALL,
        schedule=[{"weekday": 1, "start": "16:00", "end": "17:00"}, {"weekday": 3, "start": "16:00", "end": "17:00"}],
    )
    chess = publish_programme(stack, provider, title=CHESS, schedule=[{"weekday": 5, "start": "16:00", "end": "17:30"}])
    with client(stack, "catalog") as catalog:
        clash = catalog.post(  # the same coach cannot be in two places at once
            f"/v1/providers/{provider.id}/programmes",
            json={
                **{key: swimming[key] for key in SHARED_FIELDS},
                "title": JUDO,
                "schedule": [{"weekday": 2, "start": "16:30", "end": "17:30"}],
                "coach_ids": [provider.coach_id],
            },
            headers=provider.headers,
        )
    assert clash.status_code == 422 and clash.json()["errors"][0]["type"] == "coach_overlap", clash.text

    # --- families whose children win vouchers -------------------------------------------------------------
    parent = new_family(stack, token)
    crowd = [new_family(stack, token) for _ in range(11)]
    award_vouchers(stack, token, [parent, *crowd])
    child = parent.children[0]

    # --- the parent finds the programme by district and age, and enrols -----------------------------------
    with client(stack, "catalog") as catalog:
        found = catalog.get(
            "/v1/programmes",
            params={"region_code": "astana", "district_code": "yesil", "age": age_today(child.born), "limit": 100},
        )
        too_young = catalog.get(
            "/v1/programmes", params={"region_code": "astana", "district_code": "yesil", "age": 3, "limit": 100}
        )
    assert found.status_code == 200, found.text
    listed = {p["id"]: p for p in found.json()["items"]}
    assert {swimming["id"], group["id"], chess["id"]} <= set(listed)
    assert listed[swimming["id"]]["quality"]["complaints"] == 0  # quality signals shown in the search
    assert swimming["id"] not in {p["id"] for p in too_young.json()["items"]}
    first = enrol(stack, parent, child, swimming["id"])
    assert first["voucher_id"] == child.voucher_id

    # --- 11 concurrent requests for a 10-seat group: exactly 10 confirmed, the 11th refused with a reason ---
    for family in crowd:
        wait_until_catalog_knows(stack, family)
    with ThreadPoolExecutor(max_workers=11) as pool:
        answers = list(
            pool.map(lambda family: request_enrolment(stack, family, family.children[0], group["id"]), crowd)
        )
    accepted = [(family, a) for family, a in zip(crowd, answers, strict=True) if a.status_code == 202]
    refused = [(family, a) for family, a in zip(crowd, answers, strict=True) if a.status_code != 202]
    assert len(accepted) == 10, [a.status_code for a in answers]
    [(left_out, refusal)] = refused
    assert refusal.status_code == 409
    assert refusal.headers["content-type"].startswith("application/problem+json")
    assert refusal.json()["detail"] == "no free seats in this programme"
    confirmed = [wait_for_enrolment(stack, family, a.json()["id"]) for family, a in accepted]
    assert len({e["voucher_id"] for e in confirmed}) == 10
    with client(stack, "catalog") as catalog:
        full = catalog.get(f"/v1/programmes/{group['id']}").json()
        mine = catalog.get(f"/v1/providers/{provider.id}/enrolments", headers=provider.headers).json()["items"]
        stranger_view = catalog.get(f"/v1/enrolments/{first['id']}", headers=crowd[0].headers)
    assert full["free_seats"] == 0
    assert sum(e["programme_id"] == group["id"] and e["status"] == "confirmed" for e in mine) == 10
    assert stranger_view.status_code == 404  # a parent sees only their own children's enrolments

    # --- a change of club to another region's programme is refused before anything ends (issue 13, #7) -----
    elsewhere = verified_provider(stack, token, region="almaty", district="almaly")
    far = publish_programme(stack, elsewhere)
    with client(stack, "catalog") as catalog:
        wrong_region = catalog.post(
            f"/v1/enrolments/{first['id']}/change-club", json={"programme_id": far["id"]}, headers=parent.headers
        )
        kept = catalog.get(f"/v1/enrolments/{first['id']}", headers=parent.headers).json()
    assert wrong_region.status_code == 422, wrong_region.text
    assert wrong_region.headers["content-type"].startswith("application/problem+json")
    assert "programme_id" in wrong_region.text
    assert (kept["status"], kept["voucher_id"]) == ("confirmed", child.voucher_id)

    # --- a parent changes club and keeps the voucher ------------------------------------------------------
    with client(stack, "catalog") as catalog:
        moved = catalog.post(
            f"/v1/enrolments/{first['id']}/change-club", json={"programme_id": chess["id"]}, headers=parent.headers
        )
        assert moved.status_code == 202, moved.text
        second = wait_for_enrolment(stack, parent, moved.json()["id"])
        old = catalog.get(f"/v1/enrolments/{first['id']}", headers=parent.headers).json()
        seats_back = catalog.get(f"/v1/programmes/{swimming['id']}").json()["free_seats"]
    with client(stack, "allocation") as allocation:
        vouchers = allocation.get(f"/v1/children/{child.id}/vouchers", headers=parent.headers).json()["items"]
    assert second["programme_id"] == chess["id"]
    assert second["voucher_id"] == child.voucher_id == first["voucher_id"]
    assert (old["status"], old["reason"]) == ("ended", "changed_club")
    assert seats_back == 10
    assert [(v["voucher_id"], v["status"]) for v in vouchers] == [(child.voucher_id, "assigned")]

    # --- a coach's certificate expires: the group is suspended, hidden and refuses enrolments ---------------
    expiring = verified_provider(stack, token, certificate_valid_until=date.today() + timedelta(days=1))
    judo = publish_programme(stack, expiring, title=JUDO)
    admin = bearer(token("administrator"))

    def judo_status(catalog) -> str | None:
        listing = catalog.get(
            "/v1/admin/programmes/quality", params={"region_code": "astana", "limit": 100}, headers=admin
        ).json()
        return next((p["status"] for p in listing["items"] if p["programme_id"] == judo["id"]), None)

    with client(stack, "catalog") as catalog:
        assert judo_status(catalog) == "published"
    with shifted_clock(stack, ("catalog",), 3 * DAY_S):  # three days on: the certificate has lapsed
        with client(stack, "catalog") as catalog:
            eventually(lambda: judo_status(catalog) == "suspended", timeout_s=60)  # the consumers' sweep ran
            search = catalog.get("/v1/programmes", params={"district_code": "yesil", "limit": 100}).json()
            page = catalog.get(f"/v1/programmes/{judo['id']}")
            refused_judo = request_enrolment(stack, left_out, left_out.children[0], judo["id"])
        expired_notices = db_value(
            stack,
            "catalog",
            "SELECT count(*) FROM outbox WHERE event_type = 'catalog.AttestationExpiring' "
            "AND payload->>'provider_id' = $1 AND payload->>'kind' = 'criminal_record' "
            "AND payload->>'expired' = 'true'",
            expiring.id,
        )
    assert judo["id"] not in {p["id"] for p in search["items"]}
    assert page.status_code == 404
    assert refused_judo.status_code == 409, refused_judo.text
    assert refused_judo.json()["detail"] == "this programme is suspended: attestations lapsed (criminal_record)"
    assert expired_notices == 1  # the provider is told (notifications reminds its staff)
