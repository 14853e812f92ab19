"""Helpers of catalog's component tests: a verified provider, a programme, a child with a guardian."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from qosym_contracts.allocation import VoucherAssignedV1
from qosym_contracts.attendance import AttendanceConfirmedV1
from qosym_contracts.registry import GuardianshipEstablishedV1
from tests.support.events import child_registered, message

BIN = "080540014021"
IBAN = "KZ86125KZT5004100100"


def provider_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "bin": BIN,
        "name": "Barys Hockey School",
        "region_code": "astana",
        "district_code": "yesil",
        "address": "Kabanbay Batyr Ave., 45",
        "contacts": {"phone": "+7 701 000 00 00", "email": "info@barys.kz"},
        "bank": {"bank_name": "Halyk Bank", "bik": "HSBKKZKX", "iban": IBAN},
    }
    body.update(overrides)
    return body


def programme_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "direction": "sports",
        "title": {"kk": "Хоккей", "ru": "Хоккей", "en": "Hockey"},
        "description": {"kk": "Жаттығу", "ru": "Тренировки", "en": "Training"},
        "age_min": 6,
        "age_max": 10,
        "language": "kk",
        "schedule": [
            {"weekday": 2, "start": "16:00", "end": "17:30"},
            {"weekday": 4, "start": "16:00", "end": "17:30"},
        ],
        "sessions_per_month": 8,
        "price_per_month_tiyn": 1_500_000,
        "capacity": 10,
        "district_code": "yesil",
        "address": "Kabanbay Batyr Ave., 45",
        "lat": 51.1282,
        "lon": 71.4304,
    }
    body.update(overrides)
    return body


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def operator_of(token: Any, region: str = "astana", district: str | None = None) -> dict[str, str]:
    """Headers of an operator of ``region`` (and ``district``): an operator's token always names its region."""
    scope = {"region": region} | ({"district": district} if district else {})
    return auth(token("operator", scope=scope))


async def verified_provider(client: Any, token: Any, **overrides: Any) -> tuple[UUID, dict[str, str]]:
    """Register and verify a provider; return its id and a staff token scoped to it."""
    response = await client.post(
        "/v1/providers", json=provider_body(**overrides), headers=auth(token("provider_staff"))
    )
    assert response.status_code == 201, response.text
    provider_id = UUID(response.json()["id"])
    operator = operator_of(token, response.json()["region_code"])
    decision = await client.post(f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=operator)
    assert decision.status_code == 200, decision.text
    return provider_id, auth(token("provider_staff", scope={"provider": str(provider_id)}))


async def programme(client: Any, provider_id: UUID, staff: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        f"/v1/providers/{provider_id}/programmes", json=programme_body(**overrides), headers=staff
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def child_of(consumer: Any, guardian_id: UUID | None = None, **overrides: Any) -> tuple[UUID, UUID]:
    """Feed ChildRegistered and GuardianshipEstablished; return (child_id, guardian_id)."""
    guardian_id = guardian_id or uuid4()
    event = child_registered(guardian_id, **overrides)
    await consumer.deliver(message(event))
    await consumer.deliver(message(GuardianshipEstablishedV1(child_id=event.child_id, guardian_id=guardian_id)))
    return event.child_id, guardian_id


async def fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def outbox_types(url: str) -> list[str]:
    return [r["event_type"] for r in await fetch(url, "SELECT event_type FROM outbox ORDER BY id")]


def periodic(consumer: Any, name: str) -> tuple[float, Any]:
    """The consumer process's periodic job ``name`` (``sweep_attestations``, ``sweep_enrolments``): (interval, job)."""
    [(interval, job)] = [(i, j) for i, j in consumer.periodic if j.__name__ == name]
    return interval, job


def assigned(enrolment: dict[str, Any], voucher_id: UUID | None = None) -> VoucherAssignedV1:
    return VoucherAssignedV1(
        voucher_id=voucher_id or uuid4(),
        enrolment_id=enrolment["id"],
        child_id=enrolment["child_id"],
        programme_id=enrolment["programme_id"],
        provider_id=enrolment["provider_id"],
        direction="sports",
        monthly_value_tiyn=1_500_000,
        valid_until=date(2027, 5, 31),
    )


async def seats(url: str, programme_id: str) -> int:
    return (await fetch(url, "SELECT reserved FROM programme WHERE id = $1", UUID(programme_id)))[0]["reserved"]


async def confirmed_enrolment(
    client: Any, c: Any, token: Any, prog: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A new child of a new guardian enrolled in the programme and confirmed by allocation's VoucherAssigned."""
    child_id, guardian_id = await child_of(c)
    parent = auth(token("parent", subject=str(guardian_id)))
    enrolment = (
        await client.post(
            "/v1/enrolments", json={"child_id": str(child_id), "programme_id": prog["id"]}, headers=parent
        )
    ).json()
    await c.deliver(message(assigned(enrolment)))
    return enrolment, parent


async def outbox_payloads(url: str, event_type: str) -> list[dict[str, Any]]:
    rows = await fetch(url, "SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id", event_type)
    return [json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"] for r in rows]


async def requested_payload(url: str) -> dict[str, Any]:
    """The latest EnrolmentRequested in the outbox."""
    return (await outbox_payloads(url, "catalog.EnrolmentRequested"))[-1]


async def status_of(url: str, enrolment_id: str) -> str:
    return str((await fetch(url, "SELECT status FROM enrolment WHERE id = $1", UUID(enrolment_id)))[0]["status"])


def enrolment_voucher(row: dict[str, Any]) -> str:
    assert row["voucher_id"] is not None
    return str(row["voucher_id"])


@dataclass(frozen=True)
class TwoClubs:
    """A child confirmed in ``first``; ``second`` (a programme of the same provider) is where they may move."""

    consumer: Any
    staff: dict[str, str]
    first: dict[str, Any]
    second: dict[str, Any]
    enrolment: dict[str, Any]
    parent: dict[str, str]


async def two_clubs(client: Any, consumer: Any, token: Any, url: str, **second: Any) -> TwoClubs:
    """The set-up of every change of club: a provider with two programmes, a child confirmed in the first."""
    c = await consumer("catalog", url)
    provider_id, staff = await verified_provider(client, token)
    first = await programme(client, provider_id, staff)
    other = await programme(client, provider_id, staff, **second)
    enrolment, parent = await confirmed_enrolment(client, c, token, first)
    return TwoClubs(c, staff, first, other, enrolment, parent)


async def change_club(
    client: Any, enrolment: dict[str, Any], parent: dict[str, str], programme_id: str, reason: str | None = None
) -> Any:
    """The parent asks to move ``enrolment`` to ``programme_id`` (the response)."""
    body = {"programme_id": programme_id} | ({"reason": reason} if reason is not None else {})
    return await client.post(f"/v1/enrolments/{enrolment['id']}/change-club", json=body, headers=parent)


def month_confirmed(enrolment: dict[str, Any], attended: int = 6, period: str = "2030-01") -> AttendanceConfirmedV1:
    """Attendance confirmed a month of the enrolment with ``attended`` sessions (what a review needs)."""
    return AttendanceConfirmedV1(
        timesheet_id=uuid4(),
        enrolment_id=enrolment["id"],
        child_id=enrolment["child_id"],
        programme_id=enrolment["programme_id"],
        provider_id=enrolment["provider_id"],
        region_code="astana",
        period=period,
        planned_sessions=8,
        payable_sessions=attended,
        attended_sessions=attended,
        basis="guardian_confirmed",
    )
