"""Which endpoints a subscription may name, and when a failed delivery is tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from partners.domain.deliveries import endpoint_problem, next_attempt

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "allow_http", "problem"),
    [
        ("https://bank.example.kz/hooks/qosym", False, None),
        ("http://bank.example.kz/hooks", False, "must be an https:// URL"),
        ("http://127.0.0.1:9000/hooks", True, None),
        ("https://127.0.0.1/hooks", False, "must not be a local address"),
        ("https://192.168.0.9/hooks", False, "must not be a private address"),
        ("https://10.1.2.3/hooks", False, "must not be a private address"),
        ("https://localhost/hooks", False, "must not be a local address"),
        ("https://user:pw@bank.example.kz/", False, "must not carry credentials"),
        ("https://bank.example.kz/#x", False, "must not have a fragment"),
        ("ftp://bank.example.kz/", True, "must be an http:// or https:// URL"),
        ("https:///nohost", False, "names no host"),
        ("https://bank.example.kz:99999/", False, "not a URL"),
        ("https://bank.example.kz/" + "a" * 2100, False, "at most 2048 characters"),
    ],
)
def test_endpoints(url: str, allow_http: bool, problem: str | None) -> None:
    assert endpoint_problem(url, allow_http=allow_http) == problem


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    waits = [(next_attempt(now, n, 30, 600) - now).total_seconds() for n in range(1, 7)]
    assert waits == [30, 60, 120, 240, 480, 600]
    assert next_attempt(now, 0, 30, 600) == now + timedelta(seconds=30)
