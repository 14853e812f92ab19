"""The shared input types refuse hostile values up front."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import BaseModel, Field, ValidationError

from qosym_chassis.inputs import MAX_OFFSET, Money, MultilineText, SafeText, SaneDate, SaneDatetime

pytestmark = pytest.mark.unit


class Sample(BaseModel):
    name: SafeText = Field(min_length=1, max_length=5)
    text: MultilineText | None = Field(default=None, max_length=20)
    price: Money | None = Field(default=None, ge=1)
    day: SaneDate | None = None
    at: SaneDatetime | None = None


def test_plain_values_pass() -> None:
    sample = Sample(name="Ayan", text="line one\nline\ttwo", price=5_000, day=date(2026, 9, 1))
    assert sample.text == "line one\nline\ttwo"


@pytest.mark.parametrize(
    "values",
    [
        {"name": "a\x00b"},
        {"name": "a\nb"},
        {"name": "a\x1bb"},
        {"name": "\ud800"},
        {"name": "abcdef"},
        {"name": "ok", "text": "nul\x00"},
        {"name": "ok", "text": "x" * 21},
        {"name": "ok", "price": 10**30},
        {"name": "ok", "price": 0},
        {"name": "ok", "day": "0001-01-01"},
        {"name": "ok", "day": "9999-12-31"},
        {"name": "ok", "at": "9999-12-31T23:59:59Z"},
    ],
)
def test_hostile_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Sample.model_validate(values)


def test_datetime_range_accepts_now() -> None:
    assert Sample(name="x", at=datetime(2026, 1, 1)).at is not None
    assert MAX_OFFSET >= 100_000
