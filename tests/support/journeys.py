"""The setup most end-to-end journeys share, done through the public APIs as real users would.

A family registers its children (registry); an administrator runs a round in which those children win vouchers
(allocation); a provider registers, is verified by an operator, records a coach and a facility with valid
attestations and publishes a programme (catalog); a parent enrols a child and the saga confirms it.
Every step waits for the eventually consistent projections it depends on, through the APIs only.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import yaml

from qosym_chassis.iin import check_digit
from qosym_cli.stack import LocalStack
from tests.support.people import register_person, synthetic_adult_iin, synthetic_iin
from tests.support.stack_ops import db_value
from tests.support.waiting import eventually

Token = Callable[..., str]
_random = random.SystemRandom()
_bins: set[str] = set()
REGIONS = Path(__file__).resolve().parents[2] / "deploy" / "regions"
REGION_PROJECTIONS = ("registry", "catalog", "attendance", "payments")
ZONE = ZoneInfo("Asia/Almaty")  # the regions of deploy/regions keep Astana's time
EVERY_DAY = [{"weekday": d, "start": "16:00", "end": "17:00"} for d in range(1, 8)]
"""A schedule with sessions every day: a month has sessions to mark whatever the day today."""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def client(stack: LocalStack, service: str) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url(service), timeout=30)


def synthetic_bin() -> str:
    """A valid BIN of a legal entity (5th digit 4: resident legal entity), unique within a test run."""
    while True:
        first11 = f"{_random.randrange(0, 100):02d}{_random.randrange(1, 13):02d}4{_random.randrange(1_000_000):06d}"
        digit = check_digit(first11)
        if digit is not None and first11 not in _bins:
            _bins.add(first11)
            return first11 + str(digit)


def next_month_at(now: datetime, zone: ZoneInfo, day: int = 2, hour: int = 10) -> datetime:
    """That day and hour of the month after ``now``'s month in ``zone`` (where an API runs "next month")."""
    local = now.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, day, hour, tzinfo=zone)


# --- regions --------------------------------------------------------------------------------------


def configure_region(stack: LocalStack, token: Token, code: str, **overrides: Any) -> dict[str, Any]:
    """An administrator adds a region of its own to the running stack (a copy of Astana's demo file with this code),
    so a journey's rounds, batches and reconciliation see only its own data. Waits until every service that
    projects regions has applied it; returns the configuration."""
    region = yaml.safe_load((REGIONS / "astana.yaml").read_text())
    region.update(code=code, name={"en": code.title(), "kk": code.title(), "ru": code.title()}, **overrides)
    with client(stack, "allocation") as allocation:
        response = allocation.put(f"/v1/regions/{code}", json=region, headers=bearer(token("administrator")))
    assert response.is_success, response.text
    event_id = db_value(
        stack,
        "allocation",
        "select event_id from outbox where topic = 'allocation.region.v1' and msg_key = $1 order by id desc limit 1",
        code,
    )
    for service in REGION_PROJECTIONS:
        eventually(
            lambda s=service: db_value(stack, s, "select count(*) from inbox where event_id = $1", event_id) == 1,
            timeout_s=120,
        )
    return dict(region)


# --- families -------------------------------------------------------------------------------------


@dataclass
class Child:
    id: str
    district: str
    born: date
    voucher_id: str | None = None


@dataclass
class Family:
    parent_id: str
    headers: dict[str, str]
    children: list[Child] = field(default_factory=list)
    parent_iin: str = ""  # the parent's IIN, to sign in through the portal's pages


def new_family(
    stack: LocalStack,
    token: Token,
    *,
    children: int = 1,
    region: str = "astana",
    district: str = "yesil",
    born: date = date(2017, 5, 14),
    names: tuple[str, ...] = (),
) -> Family:
    """A registered parent (with a parent token for their person id) and their registered children (the first
    ``len(names)`` with those display names)."""
    with client(stack, "registry") as registry:
        parent_id, parent_iin = register_person(registry, token)
        family = Family(parent_id, bearer(token("parent", parent_id)), parent_iin=parent_iin)
        for n in range(children):
            child_born = born + timedelta(days=n)
            response = registry.post(
                "/v1/children",
                json={
                    "iin": synthetic_iin(child_born, "F" if n % 2 else "M"),
                    "region_code": region,
                    "district_code": district,
                    **({"name": names[n]} if n < len(names) else {}),
                },
                headers=family.headers,
            )
            assert response.status_code == 201, response.text
            family.children.append(Child(str(response.json()["id"]), district, child_born))
    return family


# --- a round that awards vouchers -----------------------------------------------------------------


def open_round(
    allocation: httpx.Client,
    admin: dict[str, str],
    region: str,
    quotas: dict[str, dict[str, int]],
    *,
    budget_tiyn: int,
    name: str | None = None,
) -> str:
    """An administrator's round of the region with these quotas and budget, open now for a day; its id."""
    now = datetime.now(UTC)
    created = allocation.post(
        "/v1/rounds",
        json={
            "region_code": region,
            "name": name or f"e2e {uuid.uuid4().hex[:8]}",
            "budget_tiyn": budget_tiyn,
            "quotas": quotas,
            "application_opens_at": (now - timedelta(minutes=5)).isoformat(),
            "application_closes_at": (now + timedelta(days=1)).isoformat(),
            "reference_date": str(date.today()),
            "voucher_valid_until": str(date.today() + timedelta(days=300)),
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    round_id = str(created.json()["round_id"])
    opened = allocation.post(f"/v1/rounds/{round_id}/open", headers=admin)
    assert opened.status_code == 200, opened.text
    return round_id


def close_and_allocate(allocation: httpx.Client, admin: dict[str, str], round_id: str) -> dict[str, Any]:
    """Closed early (a journey does not wait a day for the window to end), then allocated: allocation's answer."""
    closed = allocation.post(f"/v1/rounds/{round_id}/close", headers=admin, json={"reason": "schedule_change"})
    assert closed.status_code == 200, closed.text
    allocated = allocation.post(f"/v1/rounds/{round_id}/allocate", headers=admin)
    assert allocated.status_code == 200, allocated.text
    return dict(allocated.json())


def award_vouchers(
    stack: LocalStack,
    token: Token,
    families: list[Family],
    *,
    region: str = "astana",
    direction: str = "sports",
    budget_for: int | None = None,
) -> str:
    """An administrator runs a round whose quotas fit exactly these children: each one wins a voucher.

    ``budget_for=N`` gives the round a budget for only N vouchers (the quotas still fit every child): exactly N
    are awarded. Sets ``child.voucher_id`` on every child awarded and returns the round id.
    """
    admin = bearer(token("administrator"))
    members = [(family, child) for family in families for child in family.children]
    quotas: dict[str, dict[str, int]] = {}
    for _, child in members:
        quotas.setdefault(child.district, {}).setdefault(direction, 0)
        quotas[child.district][direction] += 1
    with client(stack, "allocation") as allocation:
        # allocation learns the children and their guardians from registry's events
        for family, child in members:
            eventually(
                lambda f=family, c=child: allocation.get(f"/v1/children/{c.id}", headers=f.headers).status_code == 200,
                timeout_s=60,
            )
        config = allocation.get(f"/v1/regions/{region}").json()["config"]
        cost = config["voucher"]["monthly_value"][direction] * config["voucher"]["months"]
        funded = len(members) if budget_for is None else budget_for
        round_id = open_round(allocation, admin, region, quotas, budget_tiyn=cost * funded)
        for family, child in members:
            applied = allocation.post(
                f"/v1/rounds/{round_id}/applications",
                json={"child_id": child.id, "direction": direction},
                headers=family.headers,
            )
            assert applied.status_code == 201, applied.text
        allocated = close_and_allocate(allocation, admin, round_id)
        assert allocated["awarded"] == min(funded, len(members)), allocated
        for family, child in members:
            vouchers = allocation.get(f"/v1/children/{child.id}/vouchers", headers=family.headers).json()["items"]
            if budget_for is None:
                assert len(vouchers) == 1 and vouchers[0]["status"] == "awarded", vouchers
            if vouchers:
                assert len(vouchers) == 1 and vouchers[0]["status"] == "awarded", vouchers
                child.voucher_id = str(vouchers[0]["voucher_id"])
        assert sum(child.voucher_id is not None for _, child in members) == min(funded, len(members))
    return round_id


# --- providers and programmes ---------------------------------------------------------------------


@dataclass
class Provider:
    id: str
    headers: dict[str, str]
    coach_id: str
    facility_id: str
    region: str
    district: str


def verified_provider(
    stack: LocalStack,
    token: Token,
    *,
    region: str = "astana",
    district: str = "yesil",
    certificate_valid_until: date | None = None,
) -> Provider:
    """A provider registered by its staff and verified by an operator, with a coach and a facility whose
    attestations are valid (the coach's criminal-record certificate until ``certificate_valid_until``)."""
    valid = date.today() + timedelta(days=365)
    with client(stack, "catalog") as catalog:
        registered = catalog.post(
            "/v1/providers",
            json={
                "bin": synthetic_bin(),
                "name": f"Club {uuid.uuid4().hex[:6]}",
                "region_code": region,
                "district_code": district,
                "address": "Kabanbay Batyr Ave., 45",
                "contacts": {"phone": "+7 701 000 00 00", "email": "club@example.kz"},
                "bank": {"bank_name": "Halyk Bank", "bik": "HSBKKZKX", "iban": "KZ86125KZT5004100100"},
            },
            headers=bearer(token("provider_staff")),
        )
        assert registered.status_code == 201, registered.text
        provider_id = str(registered.json()["id"])
        operator = bearer(token("operator", scope={"region": region}))
        verified = catalog.post(f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=operator)
        assert verified.status_code == 200, verified.text
        staff = bearer(token("provider_staff", scope={"provider": provider_id}))
        coach = catalog.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "Aigerim Coach", "iin": synthetic_adult_iin(), "role": "coach"},
            headers=staff,
        )
        assert coach.status_code == 201, coach.text
        facility = catalog.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Hall 1", "address": "Kabanbay Batyr Ave., 45", "capacity": 30},
            headers=staff,
        )
        assert facility.status_code == 201, facility.text
        provider = Provider(provider_id, staff, str(coach.json()["id"]), str(facility.json()["id"]), region, district)
        attest(stack, provider, "staff", provider.coach_id, "criminal_record", certificate_valid_until or valid)
        attest(stack, provider, "staff", provider.coach_id, "qualification", valid)
        attest(stack, provider, "facility", provider.facility_id, "sanitary", valid)
        attest(stack, provider, "facility", provider.facility_id, "fire", valid)
    return provider


def attest(stack: LocalStack, provider: Provider, subject_type: str, subject_id: str, kind: str, until: date) -> None:
    with client(stack, "catalog") as catalog:
        response = catalog.post(
            f"/v1/providers/{provider.id}/attestations",
            json={
                "subject_type": subject_type,
                "subject_id": subject_id,
                "kind": kind,
                "number": f"{kind[:3].upper()}-{_random.randrange(10**6):06d}",
                "valid_until": str(until),
            },
            headers=provider.headers,
        )
    assert response.status_code == 201, response.text


def publish_programme(stack: LocalStack, provider: Provider, **overrides: Any) -> dict[str, Any]:
    """A published sports programme for ages 6–12 taught by the provider's coach in its facility."""
    body: dict[str, Any] = {
        "direction": "sports",
        "title": {"kk": "Жүзу", "ru": "Плавание", "en": "Swimming"},
        "description": {"kk": "Жаттығу", "ru": "Тренировки", "en": "Training"},
        "age_min": 6,
        "age_max": 12,
        "language": "kk",
        "schedule": [
            {"weekday": 2, "start": "16:00", "end": "17:00"},
            {"weekday": 4, "start": "16:00", "end": "17:00"},
        ],
        "sessions_per_month": 8,
        "price_per_month_tiyn": 1_200_000,
        "capacity": 10,
        "district_code": provider.district,
        "address": "Kabanbay Batyr Ave., 45",
        "lat": 51.1282,
        "lon": 71.4304,
        "coach_ids": [provider.coach_id],
        "facility_id": provider.facility_id,
    }
    body.update(overrides)
    with client(stack, "catalog") as catalog:
        response = catalog.post(f"/v1/providers/{provider.id}/programmes", json=body, headers=provider.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- enrolment ------------------------------------------------------------------------------------


def wait_until_catalog_knows(stack: LocalStack, family: Family) -> None:
    """Catalog authorises a parent from registry's events: wait until it knows each child and guardian."""
    with client(stack, "catalog") as catalog:
        for child in family.children:
            eventually(
                lambda c=child: (
                    catalog.get(f"/v1/children/{c.id}/enrolments", headers=family.headers).status_code == 200
                ),
                timeout_s=60,
            )


def request_enrolment(stack: LocalStack, family: Family, child: Child, programme_id: str) -> httpx.Response:
    with client(stack, "catalog") as catalog:
        return catalog.post(
            "/v1/enrolments", json={"child_id": child.id, "programme_id": programme_id}, headers=family.headers
        )


def enrolment(stack: LocalStack, family: Family, enrolment_id: str) -> dict[str, Any]:
    with client(stack, "catalog") as catalog:
        response = catalog.get(f"/v1/enrolments/{enrolment_id}", headers=family.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def wait_for_enrolment(
    stack: LocalStack, family: Family, enrolment_id: str, statuses: tuple[str, ...] = ("confirmed",)
) -> dict[str, Any]:
    """Wait until the saga settles the enrolment (``requested`` → ``confirmed`` or ``rejected``)."""
    settled = eventually(
        lambda: (e := enrolment(stack, family, enrolment_id))["status"] != "requested" and e, timeout_s=60
    )
    assert settled["status"] in statuses, settled
    return settled


def enrol(stack: LocalStack, family: Family, child: Child, programme_id: str) -> dict[str, Any]:
    """A parent enrols a child holding a voucher; returns the confirmed enrolment."""
    wait_until_catalog_knows(stack, family)
    response = request_enrolment(stack, family, child, programme_id)
    assert response.status_code == 202, response.text
    return wait_for_enrolment(stack, family, str(response.json()["id"]))
