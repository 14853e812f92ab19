"""Redis down (docs/reliability.md, "Redis down"): logins and code requests keep working on a per-process limiter.

The registry is pointed at a port where nothing listens (a socket bound but never listening: every connection is
refused at once), so no real Redis is involved: the limits, the lockout and the success reset must behave as they do
with Redis, and nothing answers a 500.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from uuid import uuid4

import pyotp
import pytest
from prometheus_client import REGISTRY

from .test_login_abuse import new_staff
from .test_people_and_identity import ADULT_IIN, register_person, sent_code
from .test_people_and_identity import registry_db as registry_db

pytestmark = pytest.mark.component
DEGRADED = "qosym_registry_limiter_degraded_total"


@pytest.fixture
def dead_redis_url() -> Iterator[str]:
    """A redis:// URL whose port refuses every connection for as long as the test runs."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        yield f"redis://127.0.0.1:{held.getsockname()[1]}/0"


def degraded_operations() -> float:
    return REGISTRY.get_sample_value(DEGRADED) or 0.0


async def test_code_requests_and_logins_work_and_are_limited_with_redis_down(registry_db, api_client, dead_redis_url):
    async with api_client("registry", registry_db) as client:  # registering keeps its code in Redis: Redis up
        await register_person(client)
    before = degraded_operations()
    async with api_client("registry", registry_db, redis_url=dead_redis_url, otp_requests_per_iin=3) as client:
        requests = [await client.post("/v1/auth/otp/request", json={"iin": ADULT_IIN}) for _ in range(4)]
        code = await sent_code(client)  # the code of the third request, the last one sent
        session = await client.post(
            "/v1/auth/otp/verify", json={"challenge_id": requests[2].json()["challenge_id"], "code": code}
        )
    assert [r.status_code for r in requests] == [202, 202, 202, 429]
    assert requests[3].headers["content-type"] == "application/problem+json" and "retry-after" in requests[3].headers
    assert session.status_code == 200 and session.json()["access_token"]
    assert degraded_operations() > before


async def test_staff_lockout_and_its_reset_behave_with_redis_down(registry_db, api_client, token, dead_redis_url):
    async with api_client("registry", registry_db, redis_url=dead_redis_url) as client:
        staff = await new_staff(client, token)
        totp = pyotp.TOTP(staff["totp_secret"])

        def attempt(password: str):
            return client.post(
                "/v1/auth/staff/login", json={"username": "aigul.op", "password": password, "totp": totp.now()}
            )

        four = [(await attempt("nope")).status_code for _ in range(4)]
        ok = await attempt(staff["one_time_password"])
        failures = [(await attempt("nope")).status_code for _ in range(5)]
        locked = await attempt(staff["one_time_password"])
    assert four == [401] * 4 and ok.status_code == 200, ok.text
    assert failures == [401] * 5
    assert locked.status_code == 429 and locked.headers["content-type"] == "application/problem+json"
    assert 0 < int(locked.headers["retry-after"]) <= 900 and "access_token" not in locked.text


async def test_registering_with_redis_down_is_a_503_problem_never_a_500(registry_db, api_client, dead_redis_url):
    body = {"iin": ADULT_IIN, "phone": "+77011234567", "consent": {"data_processing": True}}
    async with api_client("registry", registry_db, redis_url=dead_redis_url) as client:
        started = await client.post("/v1/people", json=body)
        confirmed = await client.post("/v1/people/confirm", json={"registration_id": str(uuid4()), "code": "123456"})
    for response in (started, confirmed):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
