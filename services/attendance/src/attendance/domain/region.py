"""Attendance's projection of a region: only what periods need."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RegionClock:
    code: str
    revision: int
    timezone: str
