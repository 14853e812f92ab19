"""Read-side SQL of vouchers: a round's and a child's vouchers (docs/architecture.md, "Service anatomy")."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Select, column, select, table

VOUCHER = table(
    "voucher",
    *(
        column(name)
        for name in (
            "voucher_id",
            "round_id",
            "child_id",
            "direction",
            "monthly_value_tiyn",
            "months",
            "valid_until",
            "assign_by",
            "status",
            "reassignable_until",
        )
    ),
)


def round_vouchers_query(round_id: UUID) -> Select[Any]:
    """Every voucher ever awarded in the round (re-offers included, whatever their status), in a stable order."""
    return select(VOUCHER).where(VOUCHER.c.round_id == round_id).order_by(VOUCHER.c.voucher_id)


def child_vouchers_query(child_id: UUID) -> Select[Any]:
    """A child's vouchers with why one was revoked (never the administrator's note), oldest award first."""
    return (
        select(VOUCHER, column("status_reason"))
        .select_from(VOUCHER)
        .where(VOUCHER.c.child_id == child_id)
        .order_by(column("awarded_at"), VOUCHER.c.voucher_id)
    )
