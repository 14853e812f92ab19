"""The parents' voice issue's done-when journey, tried as a new user would on ``qosym up``, through the public APIs.

Five families win sports vouchers (the first with two children) and enrol their six children in one programme of a
verified provider, priced above the voucher. A parent with their live inbox stream open asks the provider about the
confirmed enrolment (with a photo attached); the provider's staff read the question and answer, and the answer
arrives on the parent's stream. Attendance is run "next month": the provider marks and submits this month; four
families confirm, the first family confirms one child and disputes a session of the other, and talks the dispute
through with the region's operator (the consultation point) in the dispute's thread; the operator resolves it.
After their confirmed month the five families rate the programme: the rating shows in search only once the fifth
exists; the provider's staff are told of each review, and the author of a review an operator hides is told why.
The first family's budget shows the co-payment of a programme priced above the voucher and the year's projection
for two children; the provider sees the same split. Operators see the provider's response times. A stranger's
token (another parent, another organisation's staff, an operator of another region) reads none of it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from qosym_cli.stack import LocalStack
from tests.support.journeys import (
    Family,
    award_vouchers,
    bearer,
    enrol,
    new_family,
    next_month_at,
    publish_programme,
    verified_provider,
)
from tests.support.stack_ops import shifted_clock
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
ASTANA = ZoneInfo("Asia/Almaty")
EVERY_DAY = [{"weekday": d, "start": "16:00", "end": "17:00"} for d in range(1, 8)]
PRICE = 1_800_000  # 18 000 ₸ a month: above Astana's sports voucher
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class Inbox:
    """A parent's live inbox (``GET /v1/inbox/stream``), read with httpx streaming in a thread of its own; the test
    waits on a condition for what it expects to arrive."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.events: list[dict[str, Any]] = []
        self.ready = False
        self._changed = threading.Condition()
        self._client = httpx.Client(base_url=base, headers=headers, timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event: dict[str, str] = {}
        with contextlib.suppress(httpx.HTTPError, RuntimeError), self._client.stream("GET", "/v1/inbox/stream") as r:
            assert r.status_code == 200, r.status_code
            for line in r.iter_lines():
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(":")
                    event[name] = value.removeprefix(" ")
                    continue
                with self._changed:
                    if event.get("event") == "ready":
                        self.ready = True
                    elif event.get("event") == "message":
                        self.events.append(json.loads(event["data"]))
                    self._changed.notify_all()
                event = {}

    def wait_for(self, condition: Callable[[], Any], timeout_s: float = 60) -> None:
        with self._changed:
            assert self._changed.wait_for(condition, timeout_s), f"not on the stream within {timeout_s:.0f} s"

    def close(self) -> None:
        self._client.close()


def problem(response: httpx.Response, *statuses: int) -> None:
    """A refusal: one of ``statuses``, as problem+json."""
    assert response.status_code in statuses, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers


def months_from(period: str, last: date) -> int:
    year, month = (int(part) for part in period.split("-"))
    return (last.year - year) * 12 + last.month - month + 1


@pytest.mark.timeout(900)  # five families, a round, a month of attendance and its dispute on the embedded stack
def test_parents_talk_to_providers_and_operators_rate_the_programme_and_read_their_budget(
    running_stack: LocalStack, token
) -> None:
    stack = running_stack
    families = [new_family(stack, token, children=2)] + [new_family(stack, token) for _ in range(4)]
    award_vouchers(stack, token, families)
    provider = verified_provider(stack, token)
    programme = publish_programme(
        stack, provider, schedule=EVERY_DAY, sessions_per_month=30, price_per_month_tiyn=PRICE
    )
    enrolled: dict[str, dict[str, Any]] = {}
    for family in families:
        for child in family.children:
            enrolled[child.id] = enrol(stack, family, child, programme["id"])
    first: Family = families[0]
    child_one, child_two = first.children
    operator = bearer(token("operator", scope={"region": "astana"}))
    other_provider = verified_provider(stack, token)
    strangers = {
        "another parent": bearer(token("parent", str(uuid.uuid4()))),
        "another organisation's staff": other_provider.headers,
        "an operator of another region": bearer(token("operator", scope={"region": "almaty"})),
    }

    with (
        httpx.Client(base_url=stack.api_url("conversations"), timeout=30) as conversations,
        httpx.Client(base_url=stack.api_url("notifications"), timeout=30) as notifications,
        httpx.Client(base_url=stack.api_url("attendance"), timeout=30) as attendance,
        httpx.Client(base_url=stack.api_url("catalog"), timeout=30) as catalog,
        httpx.Client(base_url=stack.api_url("payments"), timeout=30) as payments,
    ):
        # --- a parent asks the provider about the confirmed enrolment; the answer arrives live -------------------
        enrolment_id = enrolled[child_one.id]["id"]
        ask = {"object_type": "enrolment", "object_id": enrolment_id, "with": "provider"}
        # conversations learns the enrolment and the guardians from catalog's and registry's events
        started = eventually(
            lambda: (r := conversations.post("/v1/threads", json=ask, headers=first.headers)).status_code == 201 and r,
            timeout_s=60,
        )
        thread = started.json()
        assert (thread["counterpart"], thread["your_side"], thread["provider_id"]) == (
            "provider",
            "guardian",
            provider.id,
        )
        base = f"/v1/threads/{thread['thread_id']}"
        inbox = Inbox(stack.api_url("notifications"), first.headers)
        try:
            inbox.wait_for(lambda: inbox.ready, timeout_s=15)
            asked = conversations.post(
                f"{base}/messages",
                json={"language": "kk", "text": "Сабақ қашан басталады? Форма керек пе?"},
                headers=first.headers,
            )
            assert asked.status_code == 201, asked.text
            photo = conversations.post(
                f"{base}/messages/{asked.json()['message_id']}/attachments",
                files={"file": ("form.png", PNG, "image/png")},
                headers=first.headers,
            )
            assert photo.status_code == 201, photo.text
            too_big = conversations.post(
                f"{base}/messages/{asked.json()['message_id']}/attachments",
                files={"file": ("scan.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "application/pdf")},
                headers=first.headers,
            )
            assert too_big.status_code in (413, 422), too_big.text
            not_a_photo = conversations.post(
                f"{base}/messages/{asked.json()['message_id']}/attachments",
                files={"file": ("run.exe", b"MZ\x90\x00" * 64, "image/png")},
                headers=first.headers,
            )
            assert not_a_photo.status_code == 422 and "file" in not_a_photo.text, not_a_photo.text

            # the provider's staff are told in their inbox, read the question and its photo, and answer
            eventually(
                lambda: any(
                    m["kind"] == "message_posted" and m["payload"]["thread_id"] == thread["thread_id"]
                    for m in notifications.get("/v1/inbox", headers=provider.headers).json()["items"]
                ),
                timeout_s=60,
            )
            [question] = conversations.get(f"{base}/messages", headers=provider.headers).json()["items"]
            assert (question["language"], question["text"]) == ("kk", "Сабақ қашан басталады? Форма керек пе?")
            [attached] = question["attachments"]
            download = conversations.get(f"{base}/attachments/{attached['attachment_id']}", headers=provider.headers)
            assert (download.status_code, download.content) == (200, PNG)
            assert conversations.post(f"{base}/read", headers=provider.headers).status_code == 200
            # the parent sees that the staff have read the question (a read receipt)
            seen = conversations.get(base, headers=first.headers).json()["receipts"]
            assert ("provider_staff", asked.json()["message_id"]) in [
                (r["reader_side"], r["last_read_message_id"]) for r in seen
            ]
            answered = conversations.post(
                f"{base}/messages",
                json={"language": "ru", "text": "Sessions start on Monday at 16:00, форма не нужна."},
                headers=provider.headers,
            )
            assert answered.status_code == 201, answered.text

            inbox.wait_for(
                lambda: any(
                    e["kind"] == "message_posted" and e["payload"]["message_id"] == answered.json()["message_id"]
                    for e in inbox.events
                )
            )
        finally:
            inbox.close()
        [live] = [e for e in inbox.events if e["kind"] == "message_posted"]  # never told of their own question
        assert live["payload"]["thread_id"] == thread["thread_id"] and "Monday" not in json.dumps(live)
        conversation = conversations.get(f"{base}/messages", headers=first.headers).json()["items"]
        assert [(m["author_side"], m["text"]) for m in conversation] == [
            ("guardian", "Сабақ қашан басталады? Форма керек пе?"),
            ("provider_staff", "Sessions start on Monday at 16:00, форма не нужна."),
        ]
        assert conversations.post(f"{base}/read", headers=first.headers).status_code == 200
        receipts = conversations.get(base, headers=first.headers).json()["receipts"]
        assert sorted((r["reader_side"], r["last_read_message_id"]) for r in receipts) == [
            ("guardian", answered.json()["message_id"]),
            ("provider_staff", answered.json()["message_id"]),  # an author has read what they wrote
        ]

        # operators see the provider's response time; another region's operator and a parent do not
        times = conversations.get("/v1/conversations/regions/astana/response-times", headers=operator)
        assert times.status_code == 200, times.text
        [timed] = [p for p in times.json()["providers"] if p["provider_id"] == provider.id]
        assert (timed["answered"], timed["unanswered"]) == (1, 0) and timed["median_s"] >= 0
        refused = "/v1/conversations/regions/astana/response-times"
        problem(conversations.get(refused, headers=strangers["an operator of another region"]), 403, 404)
        problem(conversations.get(refused, headers=strangers["another parent"]), 403, 404)

        # --- next month: the provider submits this month; families confirm; the first disputes a session ------
        now = datetime.now(UTC)
        period = now.astimezone(ASTANA).strftime("%Y-%m")

        def group_sheet() -> dict[str, Any]:
            r = attendance.get(f"/v1/programmes/{programme['id']}/timesheets/{period}", headers=provider.headers)
            return r.json() if r.status_code == 200 else {}

        eventually(lambda: len(group_sheet().get("enrolments", [])) == 6, timeout_s=60)
        offset = int((next_month_at(now, ASTANA) - datetime.now(UTC)).total_seconds())
        with shifted_clock(stack, ("attendance",), roles=("api",), offset_s=offset):
            marked = attendance.put(
                f"/v1/programmes/{programme['id']}/timesheets/{period}/marks",
                json={"all_scheduled": "attended"},
                headers=provider.headers,
            )
            assert marked.status_code == 200, marked.text
            day = marked.json()["enrolments"][0]["marks"][0]["date"]
            submitted = attendance.post(
                f"/v1/providers/{provider.id}/timesheets/{period}/submit", headers=provider.headers
            )
            assert submitted.status_code == 200, submitted.text
            sheets: dict[str, str] = {}
            for family in families:
                for month in attendance.get(f"/v1/timesheets?period={period}", headers=family.headers).json()["items"]:
                    sheets[month["child_id"]] = month["id"]
            assert set(sheets) == set(enrolled)
            for family in families:
                for child in family.children:
                    if child.id == child_two.id:
                        continue
                    confirmed = attendance.post(f"/v1/timesheets/{sheets[child.id]}/confirm", headers=family.headers)
                    assert confirmed.status_code == 200, confirmed.text
            disputed = attendance.post(
                f"/v1/timesheets/{sheets[child_two.id]}/dispute",
                json={
                    "comment": "he was at the doctor's that day",
                    "sessions": [{"date": day, "claim": "absent", "comment": "doctor"}],
                },
                headers=first.headers,
            )
            assert disputed.status_code == 201, disputed.text
            dispute_id = disputed.json()["dispute_id"]

            # --- the parent talks the dispute through with the operator in the dispute's thread ----------------
            talk = {"object_type": "dispute", "object_id": dispute_id, "with": "consultation_point"}
            opened = eventually(
                lambda: (
                    (r := conversations.post("/v1/threads", json=talk, headers=first.headers)).status_code == 201 and r
                ),
                timeout_s=60,
            )
            dispute_thread = f"/v1/threads/{opened.json()['thread_id']}"
            said = conversations.post(
                f"{dispute_thread}/messages",
                json={"language": "en", "text": "He was at the doctor's on the first day; I have the note."},
                headers=first.headers,
            )
            assert said.status_code == 201, said.text
            listed = eventually(
                lambda: [t["thread_id"] for t in conversations.get("/v1/threads", headers=operator).json()["items"]],
                timeout_s=30,
            )
            assert opened.json()["thread_id"] in listed
            heard = conversations.get(f"{dispute_thread}/messages", headers=operator).json()["items"]
            assert [m["text"] for m in heard] == ["He was at the doctor's on the first day; I have the note."]
            replied = conversations.post(
                f"{dispute_thread}/messages",
                json={"language": "ru", "text": "Спасибо, справка принята: занятие не оплачивается."},
                headers=operator,
            )
            assert replied.status_code == 201, replied.text
            eventually(
                lambda: any(
                    m["kind"] == "message_posted" and m["payload"]["message_id"] == replied.json()["message_id"]
                    for m in notifications.get("/v1/inbox", headers=first.headers).json()["items"]
                ),
                timeout_s=60,
            )
            resolved = attendance.post(
                f"/v1/disputes/{dispute_id}/resolve",
                json={"rulings": [{"date": day, "ruling": "guardian_upheld"}], "comment": "a doctor's note"},
                headers=operator,
            )
            assert resolved.status_code == 200, resolved.text
            # the provider's staff take no part in the family's talk with its consultation point
            problem(conversations.get(dispute_thread, headers=provider.headers), 404)

        # --- after the confirmed month each family rates the programme: shown in search from the fifth --------
        def search_ratings() -> Any:
            found = catalog.get(
                "/v1/programmes",
                params={"region_code": "astana", "direction": "sports", "sort": "rating", "limit": 100},
            )
            assert found.status_code == 200, found.text
            [item] = [p for p in found.json()["items"] if p["id"] == programme["id"]]
            return item["ratings"]

        stars = [5, 4, 5, 3, 4]
        reviews: list[dict[str, Any]] = []
        for family, rating in zip(families, stars, strict=True):
            assert search_ratings() is None  # fewer than five
            body = {"enrolment_id": enrolled[family.children[0].id]["id"], "rating": rating, "text": "Good coach"}
            # catalog learns the confirmed month from attendance's events
            written = eventually(
                lambda b=body, f=family: (
                    (r := catalog.post("/v1/reviews", json=b, headers=f.headers)).status_code != 422 and r
                ),
                timeout_s=60,
            )
            assert written.status_code == 201, written.text
            reviews.append(written.json())
        shown = search_ratings()
        assert shown == {"count": 5, "mean": 4.2, "distribution": {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}}
        again = catalog.post(
            "/v1/reviews",
            json={"enrolment_id": enrolled[child_one.id]["id"], "rating": 5, "text": "again"},
            headers=first.headers,
        )
        assert again.status_code == 409 and "enrolment_id" in again.text  # one rating per enrolment
        eventually(
            lambda: (
                sum(
                    m["kind"] == "review_published"
                    for m in notifications.get("/v1/inbox?limit=100", headers=provider.headers).json()["items"]
                )
                == 5
            ),
            timeout_s=60,
        )

        # an operator of another region cannot hide a review; the region's operator hides one and its author hears why
        last_family, last_review = families[-1], reviews[-1]
        hide = f"/v1/reviews/{last_review['id']}/hide"
        problem(
            catalog.post(hide, json={"reason_code": "off_topic"}, headers=strangers["an operator of another region"]),
            404,
        )
        problem(
            catalog.put(f"/v1/reviews/{last_review['id']}", json={"rating": 1, "text": "x"}, headers=first.headers), 404
        )
        hidden = catalog.post(hide, json={"reason_code": "off_topic"}, headers=operator)
        assert hidden.status_code == 200, hidden.text
        told = eventually(
            lambda: [
                m
                for m in notifications.get(
                    "/v1/inbox", headers={**last_family.headers, "Accept-Language": "en"}
                ).json()["items"]
                if m["kind"] == "review_hidden"
            ],
            timeout_s=60,
        )
        assert told[0]["title"] == "Your review was hidden" and "not about the programme" in told[0]["body"]
        assert search_ratings() is None  # four visible ratings again

        # --- the first family's budget: the co-payment and the year's projection for two children -------------
        with httpx.Client(base_url=stack.api_url("allocation"), timeout=30) as allocation:
            value = allocation.get("/v1/regions/astana").json()["config"]["voucher"]["monthly_value"]["sports"]
        assert value < PRICE  # the programme costs more than the voucher pays
        budget = eventually(
            lambda: (
                (b := payments.get("/v1/families/me/budget", headers=first.headers).json())["children"]
                and all(
                    e["current"] and e["current"]["accrued_tiyn"] is not None
                    for c in b["children"]
                    for e in c["enrolments"]
                )
                and b
            ),
            timeout_s=90,
        )
        assert budget["period"] == period
        lines = {c["child_id"]: c["enrolments"] for c in budget["children"]}
        assert set(lines) == {child_one.id, child_two.id}
        for child in (child_one, child_two):
            [line] = lines[child.id]
            assert (line["enrolment_id"], line["programme_id"]) == (enrolled[child.id]["id"], programme["id"])
            assert (line["price_per_month_tiyn"], line["monthly_value_tiyn"]) == (PRICE, value)
            assert (line["covered_tiyn"], line["co_payment_tiyn"]) == (value, PRICE - value)
        # the month the operator resolved counts the sessions of the resolution (the ledger's, not recomputed)
        assert lines[child_two.id][0]["current"]["payable_sessions"] == resolved.json()["payable_sessions"]
        with httpx.Client(base_url=stack.api_url("allocation"), timeout=30) as allocation:
            valid_until = {
                date.fromisoformat(v["valid_until"])
                for child in first.children
                for v in allocation.get(f"/v1/children/{child.id}/vouchers", headers=first.headers).json()["items"]
            }
        [last_day] = valid_until
        months = months_from(period, last_day)
        assert budget["projection"] == {
            "months": 2 * months,
            "covered_tiyn": 2 * months * value,
            "co_payment_tiyn": 2 * months * (PRICE - value),
            "total_tiyn": 2 * months * PRICE,
        }
        # the provider sees the same split for its enrolments
        theirs = payments.get(f"/v1/providers/{provider.id}/enrolments/budget", headers=provider.headers)
        assert theirs.status_code == 200, theirs.text
        split = {e["enrolment_id"]: (e["covered_tiyn"], e["co_payment_tiyn"]) for e in theirs.json()["enrolments"]}
        assert split[enrolled[child_one.id]["id"]] == split[enrolled[child_two.id]["id"]] == (value, PRICE - value)

        # --- a stranger's token reads none of it ---------------------------------------------------------------
        enrolment_thread, attachment = base, f"{base}/attachments/{attached['attachment_id']}"
        for who, headers in strangers.items():
            for path in (enrolment_thread, f"{enrolment_thread}/messages", attachment, dispute_thread):
                response = conversations.get(path, headers=headers)
                assert response.status_code == 404, (who, path, response.status_code)
                problem(response, 404)
            problem(
                conversations.post(
                    f"{enrolment_thread}/messages", json={"language": "en", "text": "hi"}, headers=headers
                ),
                404,
            )
            problem(conversations.post(f"{enrolment_thread}/read", headers=headers), 404)
            problem(conversations.post("/v1/threads", json=ask, headers=headers), 404)
            problem(payments.get(f"/v1/providers/{provider.id}/enrolments/budget", headers=headers), 403, 404)
            mine = conversations.get("/v1/threads", headers=headers).json()["items"]
            assert thread["thread_id"] not in [t["thread_id"] for t in mine], who
            inbox_items = notifications.get("/v1/inbox?limit=100", headers=headers).json()["items"]
            assert not [m for m in inbox_items if m["payload"].get("thread_id") in (thread["thread_id"],)], who
        theirs_family = payments.get("/v1/families/me/budget", headers=strangers["another parent"])
        assert theirs_family.status_code == 200 and theirs_family.json()["children"] == []  # their own: empty
        problem(payments.get("/v1/families/me/budget", headers=other_provider.headers), 403)
