"""The registry's done-when journey, tried as a new user on the running stack.

A parent registers, receives a one-time code through the registry's real SMS gateway client (the local stack
points it at notifications' development stand-in, so the code lands in the parent's inbox), logs in, registers
two children and declares a category with a document; an operator verifies it; invalid IINs are refused
naming the field; another parent cannot read or change the children; and no IIN (nor the code) leaks.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from qosym_chassis.iin import check_digit
from tests.support.people import synthetic_adult_iin, synthetic_iin, synthetic_phone
from tests.support.stack_ops import db_value
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def with_check_digit(date_and_century: str) -> str:
    """YYMMDD + century digit, a serial and a matching check digit (so only the date is wrong)."""
    for serial in range(10_000):
        candidate = f"{date_and_century}{serial:04d}"
        digit = check_digit(candidate)
        if digit is not None:
            return candidate + str(digit)
    raise AssertionError("no serial gives a check digit")


def invalid_iins(valid: str) -> dict[str, str]:
    wrong_digit = valid[:-1] + str((int(valid[-1]) + 1) % 10)
    return {
        "bad check digit": wrong_digit,
        "Arabic-Indic digits": valid.translate(ARABIC_INDIC),
        "29 February of a non-leap year": with_check_digit("1702296"),
        "a future date": with_check_digit(f"{date.today().year % 100 + 1:02d}01016"),
    }


def read_sms(api, token, inbox_of: str, title: str) -> str:
    """The 6-digit code of the SMS the local gateway stand-in put into the inbox named by its reference."""
    reader = bearer(token("parent", inbox_of))

    def the_sms() -> dict | None:
        items = api("notifications").get("/v1/inbox", headers=reader).json()["items"]
        return next((m for m in items if m["kind"] == "sms"), None)

    sms = eventually(the_sms)
    assert sms["title"] == title
    return re.search(r"\b(\d{6})\b", sms["body"]).group(1)


def register_myself(api, token) -> tuple[str, str]:
    """Self-registration: 202 and a code to the phone given (the SMS's reference is the registration), confirm."""
    iin = synthetic_adult_iin()
    body = {"iin": iin, "phone": synthetic_phone(), "consent": {"data_processing": True}}
    started = api("registry").post("/v1/people", json=body)
    assert started.status_code == 202, started.text
    registration_id = started.json()["registration_id"]
    code = read_sms(api, token, registration_id, "One-time code")
    confirmed = api("registry").post("/v1/people/confirm", json={"registration_id": registration_id, "code": code})
    assert confirmed.status_code == 201, confirmed.text
    again = api("registry").post("/v1/people", json=body)  # the same answer for a registered IIN
    assert again.status_code == 202 and set(again.json()) == {"registration_id", "expires_in"}
    return str(confirmed.json()["id"]), iin


def log_in(api, token, person_id: str, iin: str) -> dict[str, str]:
    """Request a code, read it from the parent's inbox (a dev token only to read it), exchange it for tokens."""
    challenge = api("registry").post("/v1/auth/otp/request", json={"iin": iin})
    assert challenge.status_code == 202, challenge.text
    inbox_reader = bearer(token("parent", person_id))

    def the_sms() -> dict | None:
        items = api("notifications").get("/v1/inbox", headers=inbox_reader).json()["items"]
        return next((m for m in items if m["kind"] == "sms"), None)

    sms = eventually(the_sms)
    assert sms["title"] == "One-time code"
    code = re.search(r"\b(\d{6})\b", sms["body"]).group(1)
    session = api("registry").post(
        "/v1/auth/otp/verify", json={"challenge_id": challenge.json()["challenge_id"], "code": code}
    )
    assert session.status_code == 200, session.text
    assert session.json()["subject"] == person_id and session.json()["role"] == "parent"
    return {"code": code, "access_token": session.json()["access_token"]}


def files_under(*folders: Path) -> str:
    return "\n".join(
        path.read_text(errors="replace") for folder in folders for path in folder.rglob("*") if path.is_file()
    )


def test_a_new_parent_logs_in_registers_children_declares_a_category_and_nothing_leaks(
    api, token, new_parent, running_stack
):
    registry = api("registry")
    person_id, parent_iin = register_myself(api, token)
    login = log_in(api, token, person_id, parent_iin)
    parent = bearer(login["access_token"])
    assert registry.get("/v1/me", headers=parent).json()["id"] == person_id

    child_iins = [synthetic_iin(date(2015, 3, 9), "F"), synthetic_iin(date(2017, 11, 2), "M")]
    children = []
    for iin, district in zip(child_iins, ("yesil", "nura"), strict=True):
        response = registry.post(
            "/v1/children", json={"iin": iin, "region_code": "astana", "district_code": district}, headers=parent
        )
        assert response.status_code == 201, response.text
        children.append(response.json()["id"])
    assert sorted(c["id"] for c in registry.get("/v1/children", headers=parent).json()["items"]) == sorted(children)

    declared = registry.post(
        f"/v1/children/{children[0]}/categories",
        data={"code": "large_family"},
        files={"file": ("certificate.png", PNG, "image/png")},
        headers=parent,
    )
    assert declared.status_code == 201, declared.text
    claim = declared.json()["id"]

    operator = bearer(token("operator", scope={"region": "astana"}))
    waiting = registry.get("/v1/review/categories", headers=operator).json()["items"]
    assert claim in [c["id"] for c in waiting]
    verified = registry.post(f"/v1/categories/{claim}/verify", json={"valid_until": "2027-08-31"}, headers=operator)
    assert verified.status_code == 200, verified.text
    assert (
        registry.get(f"/v1/children/{children[0]}/categories", headers=parent).json()["items"][0]["status"]
        == "verified"
    )
    published = db_value(
        running_stack,
        "registry",
        "select payload::text from outbox where event_type = 'registry.ChildCategoriesVerified' and msg_key = $1",
        children[0],
    )
    assert published and '"large_family"' in published and "2027-08-31" in published
    eventually(
        lambda: db_value(
            running_stack,
            "registry",
            "select published_at is not null from outbox where event_type = 'registry.ChildCategoriesVerified' "
            "and msg_key = $1",
            children[0],
        )
    )

    def allocation_categories() -> list[dict] | None:
        response = api("allocation").get(f"/v1/children/{children[0]}", headers=parent)
        return response.json()["verified_categories"] if response.status_code == 200 else None

    shown = eventually(allocation_categories)
    assert shown == [{"code": "large_family", "valid_from": shown[0]["valid_from"], "valid_until": "2027-08-31"}]

    # invalid IINs: a clear error naming the field, nothing stored
    def stored() -> tuple[int, int]:
        return (
            db_value(running_stack, "registry", "select count(*) from child"),
            db_value(running_stack, "registry", "select count(*) from outbox"),
        )

    before = stored()
    rejected = invalid_iins(child_iins[1])
    for reason, iin in rejected.items():
        response = registry.post(
            "/v1/children", json={"iin": iin, "region_code": "astana", "district_code": "yesil"}, headers=parent
        )
        assert response.status_code == 422, (reason, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "iin", reason
        assert iin not in response.text and child_iins[1] not in response.text
    assert stored() == before
    assert len(registry.get("/v1/children", headers=parent).json()["items"]) == 2

    # another parent: 404 for reading or changing these children, and nothing changes
    stranger = new_parent()
    claims_before = registry.get(f"/v1/children/{children[0]}/categories", headers=parent).json()["items"]
    for child_id in children:
        attempts = [
            registry.get(f"/v1/children/{child_id}", headers=stranger.headers),
            registry.get(f"/v1/children/{child_id}/categories", headers=stranger.headers),
            registry.get(f"/v1/children/{child_id}/guardians", headers=stranger.headers),
            registry.post(
                f"/v1/children/{child_id}/categories",
                data={"code": "orphan"},
                files={"file": ("x.png", PNG, "image/png")},
                headers=stranger.headers,
            ),
            registry.post(
                f"/v1/children/{child_id}/guardians",
                json={"iin": stranger.iin, "relation": "parent"},
                headers=stranger.headers,
            ),
            registry.delete(f"/v1/children/{child_id}/guardians/{person_id}", headers=stranger.headers),
        ]
        assert [a.status_code for a in attempts] == [404] * len(attempts), [a.text for a in attempts]
        assert registry.get(f"/v1/children/{child_id}/guardians", headers=parent).json()["items"] == [person_id]
    taken = registry.post(
        "/v1/children",
        json={"iin": child_iins[0], "region_code": "astana", "district_code": "yesil"},
        headers=stranger.headers,
    )
    assert taken.status_code == 409 and child_iins[0] not in taken.text
    assert registry.get(f"/v1/children/{children[0]}/categories", headers=parent).json()["items"] == claims_before
    assert registry.get("/v1/children", headers=stranger.headers).json()["items"] == []

    # the canary: no IIN in logs, traces or the registry's outbox; the code nowhere in notifications' logs
    every_iin = [parent_iin, stranger.iin, *child_iins, *rejected.values()]
    home = running_stack.home
    logged = files_under(home / "logs", home / "traces")
    outbox = db_value(running_stack, "registry", "select string_agg(payload::text || headers::text, ' ') from outbox")
    for iin in every_iin:
        assert iin not in logged, "an IIN reached a log or trace file"
        assert iin not in outbox, "an IIN reached an event"
    code = re.compile(rf"(?<![0-9a-fA-F]){login['code']}(?![0-9a-fA-F])")
    notification_logs = "\n".join(p.read_text(errors="replace") for p in (home / "logs").glob("notifications*"))
    assert notification_logs and not code.search(notification_logs), "the one-time code reached notifications' log"
    assert not code.search(files_under(home / "traces")), "the one-time code reached a trace"
    assert f"code: {login['code']}" not in logged, "the one-time code reached a log"

    # every change above is on the keyed audit trail, and every trail verifies from the command line
    verified_chain = subprocess.run(
        [sys.executable, "-m", "qosym_cli.main", "audit", "verify", "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "300"},
    )
    assert verified_chain.returncode == 0, verified_chain.stdout + verified_chain.stderr
    assert (
        "registry: audit trail intact" in verified_chain.stdout
        and "payments: audit trail intact" in verified_chain.stdout
    )
    assert db_value(running_stack, "registry", "select count(*) from audit_log where entity_id = $1", children[0]) >= 2
