"""Login and code-request limits: which counters a try counts against, and when an account locks.

The counters live in Redis (``registry.adapters.limits``); which keys, which limits and the lockout rule are here.
Keys name an account by a hash, never a username or an IIN in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def account_key(kind: str, name: str) -> str:
    return f"registry:{kind}:{hashlib.sha256(name.encode()).hexdigest()[:32]}"


def compact_phone(phone: str) -> str:
    return phone.replace(" ", "").replace("-", "")


@dataclass(frozen=True)
class Limits:
    """The settings' limits (QOSYM_OTP_*, QOSYM_LOGIN_*)."""

    otp_requests_per_iin: int = 3
    otp_requests_per_address: int = 20
    otp_rate_window_s: int = 900
    login_attempts_per_account: int = 10
    login_attempts_per_address: int = 30
    login_rate_window_s: int = 900
    login_lockout_failures: int = 5
    login_lockout_s: int = 900


@dataclass(frozen=True)
class Counter:
    key: str
    limit: int
    window_s: int


def login_counters(limits: Limits, kind: str, name: str, address: str) -> list[Counter]:
    """A login try counts per address and per account (``kind`` staff or client), in the login window."""
    window = limits.login_rate_window_s
    return [
        Counter(f"registry:login:addr:{address}", limits.login_attempts_per_address, window),
        Counter(account_key(f"login:{kind}", name), limits.login_attempts_per_account, window),
    ]


def lockout_key(kind: str, name: str) -> str:
    return account_key(f"lockout:{kind}", name)


def is_locked(failures: int, limits: Limits) -> bool:
    """``login_lockout_failures`` failed tries in a row lock the account (for ``login_lockout_s`` from the first)."""
    return failures >= limits.login_lockout_failures


def code_request_counters(limits: Limits, iin_index_hex: str, address: str) -> list[Counter]:
    """A login code request counts per address and per IIN (by its blind index)."""
    window = limits.otp_rate_window_s
    return [
        Counter(f"registry:otp:addr:{address}", limits.otp_requests_per_address, window),
        Counter(f"registry:otp:iin:{iin_index_hex}", limits.otp_requests_per_iin, window),
    ]


def registration_counters(limits: Limits, phone: str, iin: str, address: str) -> list[Counter]:
    """A self-registration counts per address, phone and IIN, like code requests (the same limits and window)."""
    window = limits.otp_rate_window_s
    return [
        Counter(f"registry:registration:addr:{address}", limits.otp_requests_per_address, window),
        Counter(account_key("registration:phone", compact_phone(phone)), limits.otp_requests_per_iin, window),
        Counter(account_key("registration:iin", iin.strip(" ")), limits.otp_requests_per_iin, window),
    ]


def over_limit(count: int, limit: int) -> bool:
    """The ``count``-th try in a window is refused once it exceeds ``limit``."""
    return count > limit
