"""Polling for an eventually consistent outcome, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], *, timeout_s: float = 30.0, interval_s: float = 0.25) -> T:
    """Call probe until it returns a truthy value; fail with its last value after the deadline."""
    deadline = time.monotonic() + timeout_s
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout_s:.0f} s; last value: {last!r}")
        time.sleep(interval_s)
        last = probe()
    return last
