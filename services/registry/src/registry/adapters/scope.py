"""Where staff may act, as SQL: the listing form of :class:`registry.domain.model.OperatorScope`.

An operator reaches the children (and their claims and flags) of their token's region, and only its district when
the token names one; an operator scope without a region reaches nothing (the chassis already refuses such a token);
an administrator reaches every region. People carry no region: only an administrator sees and clears their flags.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, true

from registry.domain.model import OperatorScope


def scope_clause(scope: OperatorScope, region: Any, district: Any) -> ColumnElement[bool]:
    if scope.everywhere:
        return true()
    if not scope.region:
        return false()
    if not scope.district:
        return and_(region == scope.region)
    return and_(region == scope.region, district == scope.district)
