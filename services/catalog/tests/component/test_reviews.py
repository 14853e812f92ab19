"""Reviews and ratings: a guardian rates a programme after a confirmed month, once per enrolment, edits it for 30
days; an operator of the region hides one; the provider answers once; search shows ratings from five on."""

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import jwt
import pytest

from qosym_contracts.attendance import AttendanceSubmittedV1, DisputeResolvedV1
from tests.support.events import message

from .support import auth, confirmed_enrolment, month_confirmed, outbox_payloads, programme, verified_provider

pytestmark = pytest.mark.component
MONTH = 31 * 24 * 3600


def submitted(enrolment: dict[str, Any]) -> AttendanceSubmittedV1:
    """The provider submitted the month: not yet confirmed, so no review."""
    month = month_confirmed(enrolment).model_dump(
        exclude={"payable_sessions", "basis", "event_type", "event_version", "event_id"}
    )
    return AttendanceSubmittedV1(
        **month, district_code="yesil", sessions=[], confirm_by=datetime(2030, 2, 5, tzinfo=UTC)
    )


def review(enrolment: dict[str, Any], rating: int = 5, text: str = "A patient coach; my son loves it.") -> dict:
    return {"enrolment_id": enrolment["id"], "rating": rating, "text": text}


async def attended(client: Any, c: Any, token: Any, prog: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    enrolment, parent = await confirmed_enrolment(client, c, token, prog)
    await c.deliver(message(month_confirmed(enrolment)))
    return enrolment, parent


async def test_a_guardian_rates_after_a_confirmed_month_once_and_not_before(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        before = await client.post("/v1/reviews", json=review(enrolment), headers=parent)
        await c.deliver(message(submitted(enrolment)))
        only_submitted = await client.post("/v1/reviews", json=review(enrolment), headers=parent)
        await c.deliver(message(month_confirmed(enrolment, attended=0, period="2030-01")))
        none_attended = await client.post("/v1/reviews", json=review(enrolment), headers=parent)
        await c.deliver(message(month_confirmed(enrolment, attended=5, period="2030-02")))
        stranger = auth(token("parent", subject=str(uuid4())))
        foreign = await client.post("/v1/reviews", json=review(enrolment), headers=stranger)
        written = await client.post("/v1/reviews", json=review(enrolment, rating=4), headers=parent)
        twice = await client.post("/v1/reviews", json=review(enrolment, rating=1), headers=parent)
        out_of_range = await client.post("/v1/reviews", json=review(enrolment, rating=6), headers=parent)
        published = await outbox_payloads(url, "catalog.ReviewPublished")
    for refused in (before, only_submitted, none_attended):
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in refused.json()["errors"]] == ["enrolment_id"]
    assert foreign.status_code == 404, foreign.text
    assert written.status_code == 201, written.text
    assert (written.json()["rating"], written.json()["status"]) == (4, "visible")
    assert twice.status_code == 409, twice.text
    assert twice.headers["content-type"].startswith("application/problem+json")
    assert [(e["field"], e["type"]) for e in twice.json()["errors"]] == [("enrolment_id", "already_reviewed")]
    assert out_of_range.status_code == 422
    assert [p["review_id"] for p in published] == [written.json()["id"]]
    assert published[0]["guardian_id"] == parent_subject(parent, token)
    assert "text" not in published[0] and "rating" not in published[0]


def parent_subject(headers: dict[str, str], token: Any) -> str:
    return str(jwt.decode(headers["Authorization"].split()[1], options={"verify_signature": False})["sub"])


async def test_the_author_edits_within_thirty_days_and_not_after(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await attended(client, c, token, prog)
        review_id = (await client.post("/v1/reviews", json=review(enrolment), headers=parent)).json()["id"]
        edited = await client.put(f"/v1/reviews/{review_id}", json={"rating": 3, "text": "Fine."}, headers=parent)
        other = auth(token("parent", subject=str(uuid4())))
        by_other = await client.put(f"/v1/reviews/{review_id}", json={"rating": 1, "text": "x"}, headers=other)
    async with api_client("catalog", url, clock_offset_s=MONTH) as later:
        too_late = await later.put(f"/v1/reviews/{review_id}", json={"rating": 1, "text": "Bad."}, headers=parent)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["rating"], edited.json()["text"]) == (3, "Fine.")
    assert by_other.status_code == 404
    assert too_late.status_code == 409, too_late.text


async def test_an_operator_of_the_region_hides_and_the_provider_answers_once(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await attended(client, c, token, prog)
        review_id = (await client.post("/v1/reviews", json=review(enrolment), headers=parent)).json()["id"]
        other_provider = auth(token("provider_staff", scope={"provider": str(uuid4())}))
        foreign_answer = await client.post(
            f"/v1/reviews/{review_id}/answer", json={"text": "x"}, headers=other_provider
        )
        answered = await client.post(f"/v1/reviews/{review_id}/answer", json={"text": "Thank you!"}, headers=staff)
        again = await client.post(f"/v1/reviews/{review_id}/answer", json={"text": "Again"}, headers=staff)
        public = await client.get(f"/v1/programmes/{prog['id']}/reviews")

        elsewhere = auth(token("operator", scope={"region": "almaty"}))
        operator = auth(token("operator", scope={"region": "astana"}))
        foreign_hide = await client.post(
            f"/v1/reviews/{review_id}/hide", json={"reason_code": "personal_data"}, headers=elsewhere
        )
        bad_reason = await client.post(
            f"/v1/reviews/{review_id}/hide", json={"reason_code": "dislike"}, headers=operator
        )
        hidden = await client.post(
            f"/v1/reviews/{review_id}/hide", json={"reason_code": "personal_data"}, headers=operator
        )
        after = await client.get(f"/v1/programmes/{prog['id']}/reviews")
        told = await outbox_payloads(url, "catalog.ReviewHidden")
    assert foreign_answer.status_code == 404
    assert answered.status_code == 200, answered.text
    assert answered.json()["answer"] == "Thank you!"
    assert again.status_code == 409
    assert [(r["id"], r["answer"]) for r in public.json()["items"]] == [(review_id, "Thank you!")]
    assert "enrolment_id" not in public.json()["items"][0]
    assert foreign_hide.status_code == 404, foreign_hide.text
    assert bad_reason.status_code == 422
    assert hidden.status_code == 200, hidden.text
    assert (hidden.json()["status"], hidden.json()["hidden_reason"]) == ("hidden", "personal_data")
    assert hidden.json()["hidden_by"].startswith("operator:")
    assert after.json()["total"] == 0
    assert [(t["review_id"], t["reason_code"], t["enrolment_id"], t["child_id"]) for t in told] == [
        (review_id, "personal_data", enrolment["id"], enrolment["child_id"])
    ]


async def test_search_shows_ratings_only_from_five_and_sorts_by_them(service_db, consumer, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        rated = await programme(client, provider_id, staff)
        unrated = await programme(client, provider_id, staff)
        stars = [5, 4, 4, 3, 5]
        seen: list[Any] = []
        for rating in stars:
            enrolment, parent = await attended(client, c, token, rated)
            assert (await client.post("/v1/reviews", json=review(enrolment, rating), headers=parent)).status_code == 201
            page = (await client.get("/v1/programmes", params={"region_code": "astana"})).json()
            seen.append({p["id"]: p["ratings"] for p in page["items"]}[rated["id"]])
        by_rating = (await client.get("/v1/programmes", params={"sort": "rating"})).json()
        one = (await client.get(f"/v1/programmes/{rated['id']}")).json()
        operator = auth(token("operator", scope={"region": "astana"}))
        first = (await client.get(f"/v1/programmes/{rated['id']}/reviews")).json()["items"][0]["id"]
        hidden = await client.post(f"/v1/reviews/{first}/hide", json={"reason_code": "abusive"}, headers=operator)
        four_left = (await client.get(f"/v1/programmes/{rated['id']}")).json()
    assert seen[:4] == [None, None, None, None]
    assert seen[4] == {"count": 5, "mean": 4.2, "distribution": {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}}
    assert [p["id"] for p in by_rating["items"]][:2] == [rated["id"], unrated["id"]]
    assert one["ratings"]["count"] == 5
    assert hidden.status_code == 200, hidden.text
    assert four_left["ratings"] is None  # a hidden review counts for nothing: four visible ratings are not shown
    assert "quality" in one


async def test_a_month_resolved_after_a_dispute_lets_the_guardian_review(
    service_db, consumer, api_client, token
) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        c = await consumer("catalog", url)
        provider_id, staff = await verified_provider(client, token)
        prog = await programme(client, provider_id, staff)
        enrolment, parent = await confirmed_enrolment(client, c, token, prog)
        month = month_confirmed(enrolment).model_dump(exclude={"basis", "event_type", "event_version", "event_id"})
        await c.deliver(message(DisputeResolvedV1(**month, dispute_id=uuid4(), outcome="partly_upheld")))
        written = await client.post("/v1/reviews", json=review(enrolment), headers=parent)
    assert written.status_code == 201, written.text
