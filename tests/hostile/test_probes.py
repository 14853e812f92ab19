"""The hostile-input probes of issue 13, re-run as written against each service in-process.

Each one used to answer 500 (and log the SQL parameters) or accept nonsense; each must now be a 4xx
problem+json naming the field, with nothing written.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.component

PROBLEM = "application/problem+json"
HUGE_OFFSET = "9223372036854775808"
REGIONS = Path(__file__).resolve().parents[2] / "deploy" / "regions"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: Any, field: str | None = None, status: int = 422) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    if field is not None:
        assert field in {e["field"] for e in response.json().get("errors") or []}, response.text


async def test_staff_login_with_a_nul_byte_needs_no_token_and_is_a_422(service_db, api_client, caplog) -> None:
    url = await service_db("registry")
    caplog.set_level(logging.INFO)
    async with api_client("registry", url) as client:
        response = await client.post(
            "/v1/auth/staff/login", json={"username": "a\u0000b", "password": "secret-password", "totp": "123456"}
        )
    assert_refused(response, "username")
    assert "secret-password" not in caplog.text


async def test_declared_birth_dates_out_of_range_are_refused(service_db, api_client, token: Callable[..., str]):
    from datetime import date

    from tests.support.people import synthetic_adult_iin, synthetic_iin, synthetic_phone

    url = await service_db("registry")
    async with api_client("registry", url) as client:
        person = await client.post(
            "/v1/people",
            json={"iin": synthetic_adult_iin(), "phone": synthetic_phone(), "consent": {"data_processing": True}},
            headers=auth(token("operator", scope={"region": "astana"})),  # a service point registers at once
        )
        assert person.status_code == 201, person.text
        parent = auth(token("parent", person.json()["id"]))
        for day in ("0001-01-01", "9999-12-31"):
            response = await client.post(
                "/v1/children",
                json={
                    "iin": synthetic_iin(date(2016, 5, 14)),
                    "region_code": "astana",
                    "district_code": "yesil",
                    "declared_birth_date": day,
                },
                headers=parent,
            )
            assert_refused(response, "declared_birth_date")


@pytest.mark.parametrize(
    ("service", "path", "role"),
    [
        ("attendance", "/v1/timesheets", "administrator"),
        ("payments", "/v1/batches", "administrator"),
        ("allocation", "/v1/children?region_code=astana", "administrator"),
        ("notifications", "/v1/inbox", "parent"),
        ("catalog", "/v1/consultation-points?region_code=astana", None),
        ("payments", "/v1/parked-events", "administrator"),
    ],
)
async def test_an_offset_beyond_64_bits_is_a_422(service_db, api_client, token, service, path, role) -> None:
    url = await service_db(service)
    headers = auth(token(role)) if role else {}
    separator = "&" if "?" in path else "?"
    async with api_client(service, url) as client:
        response = await client.get(f"{path}{separator}offset={HUGE_OFFSET}", headers=headers)
    assert_refused(response, "offset")


@pytest.mark.parametrize(
    ("service", "path"),
    [("allocation", "/v1/children"), ("catalog", "/v1/consultation-points"), ("payments", "/v1/batches")],
)
async def test_a_nul_byte_in_a_query_parameter_is_a_422_naming_it(service_db, api_client, token, service, path):
    url = await service_db(service)
    async with api_client(service, url) as client:
        response = await client.get(path, params={"region_code": "astana\u0000"}, headers=auth(token("administrator")))
    assert_refused(response, "region_code")


async def test_a_price_of_ten_to_the_thirty_is_a_422_without_a_token(service_db, api_client) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.get(f"/v1/programmes?region_code=astana&max_price_tiyn={10**30}")
    assert_refused(response, "max_price_tiyn")


async def _verified_provider(client: Any, token: Callable[..., str]) -> tuple[str, dict[str, str]]:
    body = {
        "bin": "080540014021",
        "name": "Barys Hockey School",
        "region_code": "astana",
        "district_code": "yesil",
        "address": "Kabanbay Batyr Ave., 45",
        "contacts": {"phone": "+7 701 000 00 00"},
        "bank": {"bank_name": "Halyk Bank", "bik": "HSBKKZKX", "iban": "KZ86125KZT5004100100"},
    }
    created = await client.post("/v1/providers", json=body, headers=auth(token("provider_staff")))
    assert created.status_code == 201, created.text
    provider_id = created.json()["id"]
    decided = await client.post(
        f"/v1/providers/{provider_id}/decision", json={"action": "verify"}, headers=auth(token("administrator"))
    )
    assert decided.status_code == 200, decided.text
    return provider_id, auth(token("provider_staff", scope={"provider": provider_id}))


async def test_nul_bytes_in_facility_and_staff_names_are_422_and_nothing_is_logged(
    service_db, api_client, token, caplog
) -> None:
    url = await service_db("catalog")
    caplog.set_level(logging.DEBUG)
    async with api_client("catalog", url) as client:
        provider_id, staff = await _verified_provider(client, token)
        facility = await client.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Ice\u0000Rink Secret", "address": "Dostyk St., 13", "capacity": 30},
            headers=staff,
        )
        person = await client.post(
            f"/v1/providers/{provider_id}/staff",
            json={"full_name": "Aigerim\u0000Secretova", "iin": "900101300123", "role": "coach"},
            headers=staff,
        )
        listed = await client.get(f"/v1/providers/{provider_id}/staff", headers=staff)
    assert_refused(facility, "name")
    assert_refused(person, "full_name")
    assert "Secretova" not in listed.text
    assert "Secret" not in caplog.text and "900101300123" not in caplog.text


async def test_attestation_dates_in_year_9999_are_refused(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        provider_id, staff = await _verified_provider(client, token)
        facility = await client.post(
            f"/v1/providers/{provider_id}/facilities",
            json={"name": "Ice Rink", "address": "Dostyk St., 13", "capacity": 30},
            headers=staff,
        )
        assert facility.status_code == 201, facility.text
        for day in ("0001-01-01", "9999-12-31"):
            response = await client.post(
                f"/v1/providers/{provider_id}/attestations",
                json={
                    "subject_type": "facility",
                    "subject_id": facility.json()["id"],
                    "kind": "sanitary",
                    "number": "S-1",
                    "valid_until": day,
                },
                headers=staff,
            )
            assert_refused(response, "valid_until")


async def test_round_names_with_nul_and_dates_in_year_1_or_9999_are_refused(service_db, api_client, token) -> None:
    from datetime import UTC, datetime, timedelta

    url = await service_db("allocation")
    admin = auth(token("administrator"))
    now = datetime.now(UTC)
    body = {
        "region_code": "astana",
        "name": "Autumn 2026",
        "budget_tiyn": 100_000_000,
        "quotas": {"yesil": {"sports": 2}},
        "application_opens_at": (now - timedelta(hours=1)).isoformat(),
        "application_closes_at": (now + timedelta(days=7)).isoformat(),
        "reference_date": "2026-09-01",
        "voucher_valid_until": "2027-06-30",
    }
    region = yaml.safe_load((REGIONS / "astana.yaml").read_text())
    async with api_client("allocation", url) as client:
        assert (await client.put("/v1/regions/astana", json=region, headers=admin)).status_code == 201
        bad = [
            ({"name": "Autumn\u00002026"}, "name"),
            ({"reference_date": "0001-01-01"}, "reference_date"),
            ({"voucher_valid_until": "9999-12-31"}, "voucher_valid_until"),
            ({"application_closes_at": "9999-12-31T00:00:00+00:00"}, "application_closes_at"),
        ]
        for change, field in bad:
            assert_refused(await client.post("/v1/rounds", json={**body, **change}, headers=admin), field)


async def test_a_body_over_one_mebibyte_is_a_problem_json_413(service_db, api_client, token) -> None:
    url = await service_db("catalog")
    async with api_client("catalog", url) as client:
        response = await client.post(
            "/v1/providers",
            content=b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}',
            headers={**auth(token("provider_staff")), "Content-Type": "application/json"},
        )
    assert_refused(response, status=413)
