"""Payment batches, maker–checker: an administrator prepares a batch of a region's payables for a month, a
*different* administrator approves it, which writes the pain.001 payment order (validated, hashed); the
treasury's confirmation (an API call or an imported statement) pays each provider: payable → settlement.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import batch_repository as repo
from payments.adapters import ledger, pain001, payment_queries, provider_repository, region_repository
from payments.adapters.batch_repository import BatchItemRecord, BatchRecord, BatchSummary
from payments.domain import periods
from payments.domain.aggregates import Provider
from payments.domain.ledger import AccountKind, Transfer, TransferKind, account_code
from payments.domain.payment_order import (
    CreditTransfer,
    Party,
    PaymentOrder,
    bic_is_valid,
    end_to_end_id,
    iban_is_valid,
    message_id,
)
from payments.domain.statement import InvalidStatement, parse_statement
from payments.service_layer.dependencies import Dependencies
from payments.service_layer.paging import Page
from qosym_chassis import audit, outbox
from qosym_chassis.audit import Actor
from qosym_chassis.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from qosym_contracts import payments as events


@dataclass(frozen=True)
class BatchView(BatchRecord):
    """A batch with its items (its payment order file is served on its own: ``payment_order``)."""

    items: list[BatchItemRecord] = field(default_factory=list)
    held_back_providers: list[UUID] = field(default_factory=list)  # payables but no valid bank details


@dataclass(frozen=True)
class PaymentOrderFile:
    content: bytes
    sha256: str
    filename: str


async def get_batch(deps: Dependencies, batch_id: UUID, held_back: list[UUID] | None = None) -> BatchView:
    async with deps.sessions() as session:
        batch = await repo.get_batch(session, batch_id)
        if batch is None:
            raise NotFound("no such batch")
        items = await repo.items(session, batch_id)
    record = {name: getattr(batch, name) for name in BatchRecord.__dataclass_fields__}
    return BatchView(**record, items=items, held_back_providers=held_back or [])


async def list_batches(
    deps: Dependencies, region_code: str | None, period: str | None, status: str | None, limit: int, offset: int
) -> Page[BatchSummary]:
    async with deps.sessions() as session:
        total, found = await payment_queries.batches(session, region_code, period, status, limit, offset)
    return Page(found, total, limit, offset)


async def payment_order(deps: Dependencies, batch_id: UUID) -> PaymentOrderFile:
    """The approved batch's ISO 20022 pain.001.001.09 file."""
    async with deps.sessions() as session:
        batch = await repo.get_batch(session, batch_id)
    if batch is None or batch.order_xml is None or batch.order_sha256 is None:
        raise NotFound("no payment order for this batch (it exists once the batch is approved)")
    return PaymentOrderFile(
        batch.order_xml.encode("utf-8"),
        batch.order_sha256,
        f"pain001-{batch.region_code}-{batch.period}-{batch_id}.xml",
    )


async def prepare(deps: Dependencies, region_code: str, period: str, maker: str) -> BatchView:
    """The maker: group a region's unpaid accruals of a month per provider into a batch awaiting approval."""
    try:
        periods.parse(period)
    except ValueError:
        raise FieldError("period", "a period is YYYY-MM") from None
    now = deps.clock.now()
    batch_id = uuid4()
    try:
        async with deps.sessions() as session, session.begin():
            if not await region_repository.region_exists(session, region_code):
                raise FieldError("region_code", "no such region", code="unknown_region")
            payable = await repo.payable_by_provider(session, region_code, period)
            known = await provider_repository.providers(session, [row.provider_id for row in payable])
            eligible = [p for p in (row.provider_id for row in payable) if p in known and iban_is_valid(known[p].iban)]
            held_back = [row.provider_id for row in payable if row.provider_id not in eligible]
            claimed = await repo.claim_accruals(session, batch_id, region_code, period, eligible)
            if not claimed:
                detail = f"nothing payable in {region_code} for {period}"
                if held_back:
                    detail += f" ({len(held_back)} providers have payables but no valid bank details)"
                raise Conflict(detail)
            per_provider: dict[UUID, list[int]] = {}
            for row in claimed:
                per_provider.setdefault(row.provider_id, []).append(row.amount_tiyn)
            total = sum(sum(amounts) for amounts in per_provider.values())
            await repo.insert_batch(session, batch_id, region_code, period, maker, len(per_provider), total, now)
            await audit.append(
                session,
                Actor(maker, "administrator"),
                "batch.prepared",
                "payment_batch",
                batch_id,
                {"region_code": region_code, "period": period, "providers": len(per_provider), "total_tiyn": total},
            )
            for provider_id, amounts in sorted(per_provider.items()):
                item_id = uuid4()
                await repo.insert_item(
                    session, item_id, batch_id, provider_id, sum(amounts), len(amounts), end_to_end_id(item_id)
                )
    except IntegrityError as exc:
        if "uq_payment_batch_one_prepared" in str(exc):
            raise Conflict(f"a batch for {region_code} {period} is already waiting for approval") from None
        raise
    return await get_batch(deps, batch_id, held_back)


async def approve(deps: Dependencies, batch_id: UUID, checker: str) -> BatchView:
    """The checker (a different administrator): approve, write and validate the pain.001 payment order."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        batch = await repo.get_batch(session, batch_id, lock=True)
        if batch is None:
            raise NotFound("no such batch")
        self_approval = batch.prepared_by == checker
        if self_approval:
            await audit.append(
                session,
                Actor(checker, "administrator"),
                "batch.approval_refused",
                "payment_batch",
                batch_id,
                {"reason": "maker_checker"},
            )
    if self_approval:  # the refusal is on the trail (committed above); nothing else changed
        raise Forbidden("maker–checker: the administrator who prepared a batch cannot approve it")
    async with deps.sessions() as session, session.begin():
        batch = await repo.get_batch(session, batch_id, lock=True)
        if batch is None:
            raise NotFound("no such batch")
        if batch.prepared_by == checker:
            raise Forbidden("maker–checker: the administrator who prepared a batch cannot approve it")
        if batch.status != "prepared":
            raise Conflict(f"the batch is {batch.status}; only a prepared batch can be approved")
        # the region file's account (projected from RegionConfigured), else the settings' (QOSYM_TREASURY_ACCOUNTS)
        treasury = await region_repository.region_treasury(session, batch.region_code) or deps.treasury(
            batch.region_code
        )
        if treasury is None:
            raise Conflict(
                f"no treasury account is configured for {batch.region_code} "
                "(the region file's treasury_account, or QOSYM_TREASURY_ACCOUNTS)"
            )
        items = await repo.items(session, batch_id)
        known = await provider_repository.providers(session, [item.provider_id for item in items])
        order = PaymentOrder(
            message_id=message_id(batch_id),
            created_at=now,
            execution_date=(now + timedelta(days=1)).date(),
            initiator=deps.payment_initiator,
            debtor=treasury,
            transfers=tuple(
                CreditTransfer(
                    end_to_end_id=item.end_to_end_id,
                    amount_tiyn=item.amount_tiyn,
                    creditor=_creditor(known.get(item.provider_id)),
                    remittance=f"Qosym vouchers {batch.region_code} {batch.period}: {item.accruals} enrolment-months",
                )
                for item in items
            ),
        )
        try:
            document = pain001.write(order)
        except pain001.InvalidPaymentOrder as exc:
            raise Unprocessable(str(exc)) from None
        digest = hashlib.sha256(document).hexdigest()
        await repo.approve(session, batch_id, checker, now, document.decode("utf-8"), digest)
        await audit.append(
            session,
            Actor(checker, "administrator"),
            "batch.approved",
            "payment_batch",
            batch_id,
            {"prepared_by": batch.prepared_by, "total_tiyn": batch.total_tiyn, "order_sha256": digest},
        )
        await outbox.add_event(
            session,
            events.PaymentBatchApprovedV1(
                batch_id=batch_id,
                region_code=batch.region_code,
                period=batch.period,
                providers=batch.providers,
                total_tiyn=batch.total_tiyn,
                order_sha256=digest,
                prepared_by=batch.prepared_by,
                approved_by=checker,
            ),
        )
    return await get_batch(deps, batch_id)


def _creditor(provider: Provider | None) -> Party:
    if provider is None or not iban_is_valid(provider.iban):
        raise Conflict("a provider of the batch has no valid bank details any more; cancel and prepare again")
    return Party(
        name=provider.name,
        iban=provider.iban or "",
        bic=provider.bank_bic if bic_is_valid(provider.bank_bic) else None,
        bin=provider.bin,
    )


async def cancel(deps: Dependencies, batch_id: UUID, by: str) -> BatchView:
    """Give up a prepared batch: its accruals become payable again."""
    async with deps.sessions() as session, session.begin():
        batch = await repo.get_batch(session, batch_id, lock=True)
        if batch is None:
            raise NotFound("no such batch")
        if batch.status != "prepared":
            raise Conflict(f"the batch is {batch.status}; only a prepared batch can be cancelled")
        await repo.cancel(session, batch_id)
        await audit.append(session, Actor(by, "administrator"), "batch.cancelled", "payment_batch", batch_id, {})
    return await get_batch(deps, batch_id)


@dataclass
class Confirmation:
    confirmed: int = 0
    already_confirmed: int = 0
    batches_paid: list[UUID] = field(default_factory=list)


async def confirm_batch(deps: Dependencies, batch_id: UUID, reference: str, paid_at: datetime) -> Confirmation:
    """The treasury confirms the whole batch (an API call): every unpaid item is paid with this reference."""
    async with deps.sessions() as session, session.begin():
        batch = await repo.get_batch(session, batch_id, lock=True)
        if batch is None:
            raise NotFound("no such batch")
        if batch.status not in ("approved", "paid"):
            raise Conflict(f"the batch is {batch.status}; only an approved batch can be paid")
        result = Confirmation()
        for item in await repo.items(session, batch_id, lock=True):
            await _pay(session, batch, item, reference, paid_at, result)
        if await repo.mark_paid_if_complete(session, batch_id, paid_at):
            result.batches_paid.append(batch_id)
    return result


async def import_statement(deps: Dependencies, body: bytes) -> Confirmation:
    """Apply a treasury statement (CSV: end_to_end_id,amount,currency,reference,booked_at): all lines or none. A
    line already applied is counted, not applied again."""
    try:
        lines = parse_statement(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Unprocessable("the statement must be UTF-8 text") from None
    except InvalidStatement as exc:
        raise Unprocessable(
            "the statement is not valid; nothing was applied",
            errors=[{"field": f"line {n}", "message": m, "type": "invalid"} for n, m in exc.problems],
        ) from None
    async with deps.sessions() as session, session.begin():
        found = await repo.items_by_end_to_end_id(session, [line.end_to_end_id for line in lines])
        problems: list[dict[str, str]] = []
        for line in lines:
            match = found.get(line.end_to_end_id)
            if match is None:
                problems.append(
                    {
                        "field": f"line {line.line}",
                        "message": "no payment order item has this end_to_end_id",
                        "type": "unknown",
                    }
                )
            elif match.item.amount_tiyn != line.amount_tiyn:
                problems.append(
                    {
                        "field": f"line {line.line}",
                        "message": "the amount differs from the payment order",
                        "type": "amount",
                    }
                )
            elif match.batch_status not in ("approved", "paid"):
                problems.append(
                    {"field": f"line {line.line}", "message": f"its batch is {match.batch_status}", "type": "state"}
                )
        if problems:
            raise Unprocessable("the statement does not match the payment orders; nothing was applied", errors=problems)
        result = Confirmation()
        touched: set[UUID] = set()
        for line in lines:
            item = found[line.end_to_end_id].item
            batch = await repo.get_batch(session, item.batch_id)
            assert batch is not None  # the item's batch, found with it above
            await _pay(session, batch, item, line.reference, line.booked_at, result)
            touched.add(item.batch_id)
        for batch_id in sorted(touched):
            if await repo.mark_paid_if_complete(session, batch_id, max(line.booked_at for line in lines)):
                result.batches_paid.append(batch_id)
    return result


async def _pay(
    session: AsyncSession,
    batch: BatchRecord,
    item: BatchItemRecord,
    reference: str,
    paid_at: datetime,
    result: Confirmation,
) -> None:
    if item.paid_at is not None:
        result.already_confirmed += 1
        return
    payable = account_code(AccountKind.PROVIDER_PAYABLE, item.provider_id)
    settlement = await ledger.open_account(session, AccountKind.SETTLEMENT, batch.region_code, batch.region_code)
    transfer, _ = await ledger.apply(
        session,
        Transfer(
            uuid4(),
            f"payout:{batch.batch_id}:{item.provider_id}",
            TransferKind.PAYOUT,
            payable,
            settlement,
            item.amount_tiyn,
        ),
    )
    await repo.mark_item_paid(session, item.item_id, transfer.id, reference, paid_at)
    await outbox.add_event(
        session,
        events.ProviderPaidV1(
            batch_id=batch.batch_id,
            provider_id=item.provider_id,
            region_code=batch.region_code,
            period=batch.period,
            amount_tiyn=item.amount_tiyn,
            paid_at=paid_at,
            treasury_reference=reference,
        ),
    )
    result.confirmed += 1
