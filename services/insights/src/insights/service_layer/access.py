"""Who may read which region's figures: administrators and auditors every region, an operator only their own
(another region is answered as if it did not exist)."""

from __future__ import annotations

from qosym_chassis.auth import Principal
from qosym_chassis.callers import OPERATORS
from qosym_chassis.errors import NotFound


def may_read_region(caller: Principal, region_code: str) -> bool:
    if caller.role in OPERATORS:
        return caller.scope.get("region") == region_code
    return True


def check_region(caller: Principal, region_code: str) -> None:
    if not may_read_region(caller, region_code):
        raise NotFound("no such region")
