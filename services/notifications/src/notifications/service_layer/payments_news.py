"""Payments' news: accruals and payouts for providers, batches and budget thresholds for administrators.

Every handler runs inside the consumer wrapper's transaction (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.fanout import publish_notices
from qosym_contracts.payments import (
    BudgetThresholdReachedV1,
    PaymentAccruedV1,
    PaymentBatchApprovedV1,
    ProviderPaidV1,
    VoucherFundingRefusedV1,
)


async def on_payment_news(
    deps: Dependencies,
    session: AsyncSession,
    event: PaymentAccruedV1 | ProviderPaidV1 | PaymentBatchApprovedV1 | BudgetThresholdReachedV1,
) -> None:
    await publish_notices(deps, session, event)


async def on_voucher_funding_refused(deps: Dependencies, session: AsyncSession, event: VoucherFundingRefusedV1) -> None:
    await publish_notices(deps, session, event)
