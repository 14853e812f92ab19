"""Presentation helpers the provider and administrator pages share: money in tenge, months, short ids.

Formatting only (no rule): the APIs give integer tiyn and ``YYYY-MM`` periods; pages show ``12 345,67 ₸``.
"""

from __future__ import annotations

import re

from portal.entrypoints.pages import TEMPLATES

PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def shift_period(period: str, months: int) -> str:
    year, month = (int(part) for part in period.split("-"))
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def short_id(value: object) -> str:
    return str(value)[:8]


TEMPLATES.env.filters.setdefault("short_id", short_id)
