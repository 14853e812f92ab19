"""Login limits: which counters a try counts against, their limits and windows, and when an account locks."""

from __future__ import annotations

import hashlib

import pytest

from registry.domain.login_limits import (
    Counter,
    Limits,
    account_key,
    code_request_counters,
    compact_phone,
    is_locked,
    lockout_key,
    login_counters,
    over_limit,
    registration_counters,
)

pytestmark = pytest.mark.unit
LIMITS = Limits(
    otp_requests_per_iin=3,
    otp_requests_per_address=20,
    otp_rate_window_s=600,
    login_attempts_per_account=10,
    login_attempts_per_address=30,
    login_rate_window_s=900,
    login_lockout_failures=5,
    login_lockout_s=1800,
)


def test_an_account_is_named_by_a_hash_never_in_clear() -> None:
    key = account_key("login:staff", "aigul.op")
    assert key == f"registry:login:staff:{hashlib.sha256(b'aigul.op').hexdigest()[:32]}"
    assert "aigul" not in key and account_key("login:staff", "aigul.op2") != key
    assert account_key("login:client", "aigul.op") != key  # staff and clients never share a counter


def test_a_login_counts_per_address_and_per_account_in_the_login_window() -> None:
    counters = login_counters(LIMITS, "staff", "aigul.op", "10.0.0.7")
    assert counters == [
        Counter("registry:login:addr:10.0.0.7", 30, 900),
        Counter(account_key("login:staff", "aigul.op"), 10, 900),
    ]
    assert login_counters(LIMITS, "client", "svc-0123456789ab", "10.0.0.7")[0] == counters[0]  # one address budget


def test_a_code_request_counts_per_address_and_per_iin_index() -> None:
    counters = code_request_counters(LIMITS, "ab" * 16, "10.0.0.7")
    assert counters == [
        Counter("registry:otp:addr:10.0.0.7", 20, 600),
        Counter(f"registry:otp:iin:{'ab' * 16}", 3, 600),
    ]


def test_a_registration_counts_the_phone_however_it_is_written() -> None:
    spaced = registration_counters(LIMITS, "+7 701 123-45-67", " 900101300017", "10.0.0.7")
    compact = registration_counters(LIMITS, "+77011234567", "900101300017 ", "10.0.0.7")
    assert spaced == compact
    assert [c.limit for c in spaced] == [20, 3, 3] and {c.window_s for c in spaced} == {600}
    assert all("900101300017" not in c.key and "7011234567" not in c.key for c in spaced)
    assert compact_phone("+7 701 123-45-67") == "+77011234567"


def test_the_limit_th_try_passes_and_the_next_is_refused() -> None:
    assert not over_limit(1, 3) and not over_limit(3, 3)
    assert over_limit(4, 3)


def test_an_account_locks_after_the_configured_failures_in_a_row() -> None:
    assert [is_locked(n, LIMITS) for n in range(7)] == [False] * 5 + [True, True]
    assert is_locked(1, Limits(login_lockout_failures=1)) and not is_locked(0, Limits(login_lockout_failures=1))


def test_lockouts_are_per_kind_of_account() -> None:
    assert lockout_key("staff", "x") == account_key("lockout:staff", "x")
    assert lockout_key("staff", "x") != lockout_key("client", "x")
    assert lockout_key("staff", "x") != login_counters(LIMITS, "staff", "x", "a")[1].key
