"""The rules of subscriptions and deliveries: which endpoints are accepted, when an attempt is retried."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def endpoint_problem(url: str, *, allow_http: bool) -> str | None:
    """Why an endpoint URL is refused, or None.

    https only (http only where allowed: development), a host name, no credentials in the URL, no fragment; in
    production the literal loopback, link-local and private addresses are refused too (a webhook is not a way
    into the platform's own network)."""
    if len(url) > MAX_URL_LENGTH:
        return f"at most {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "not a URL"
    del port
    if parts.scheme not in (("https", "http") if allow_http else ("https",)):
        return "must be an https:// URL" if not allow_http else "must be an http:// or https:// URL"
    host = parts.hostname
    if not host:
        return "names no host"
    if parts.username or parts.password:
        return "must not carry credentials"
    if parts.fragment:
        return "must not have a fragment"
    if not allow_http:
        if host in LOCAL_HOSTS:
            return "must not be a local address"
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        if not is_public_address(address):
            return "must not be a private address"
    return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not private, loopback, link-local (the cloud's metadata address), reserved, multicast or unspecified."""
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def next_attempt(now: datetime, attempts: int, base_s: float, max_s: float) -> datetime:
    """When to try again after ``attempts`` failed attempts: base, 2×base, 4×base, … capped at ``max_s``."""
    return now + timedelta(seconds=min(max_s, base_s * 2 ** max(0, attempts - 1)))


def is_success(status_code: int) -> bool:
    return 200 <= status_code < 300
