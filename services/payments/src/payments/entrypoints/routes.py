"""Payments HTTP routes."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi_pagination.ext.sqlalchemy import apaginate

from payments.adapters import batches as batch_repo
from payments.adapters import ledger, records
from payments.adapters.peers import open_peers
from payments.bootstrap import Payments
from payments.domain.ledger import AccountKind, account_code
from payments.domain.statement import InvalidStatement, parse_statement
from payments.entrypoints import schemas
from payments.entrypoints.consumers import policy_of
from payments.service_layer import batches, budget_watch, handlers, reconciliation
from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import Forbidden, NotFound, Unprocessable
from qosym_chassis.inputs import Offset, OffsetPage

router = APIRouter()


def get_payments(request: Request) -> Payments:
    payments: Payments = request.app.state.payments
    return payments


PaymentsDep = Annotated[Payments, Depends(get_payments)]
BudgetReader = Annotated[Principal, Depends(require_roles("administrator", "auditor"))]
Administrator = Annotated[Principal, Depends(require_roles("administrator"))]
BatchReader = Annotated[Principal, Depends(require_roles("administrator", "auditor"))]
OrderReader = Annotated[Principal, Depends(require_roles("administrator", "auditor", "partner"))]
Treasury = Annotated[Principal, Depends(require_roles("administrator", "partner"))]
MoneyReader = Annotated[Principal, Depends(require_roles("provider_staff", "administrator", "auditor"))]
Reconciler = Annotated[Principal, Depends(require_roles("auditor", "administrator", "ops"))]
Ops = Annotated[Principal, Depends(require_roles("ops", "administrator", "auditor"))]
RegionCode = Annotated[str, Path(pattern=schemas.REGION, examples=["astana"])]
PeriodQuery = Annotated[str | None, Query(pattern=schemas.PERIOD, examples=["2026-11"])]


# --- budgets ------------------------------------------------------------------------------------------


@router.get("/v1/regions/{code}/budget", tags=["budgets"], responses={404: {}})
async def get_region_budget(code: RegionCode, _: BudgetReader, payments: PaymentsDep) -> schemas.RegionBudgetOut:
    """A region's budget and voucher terms, and how many vouchers per direction it could fund."""
    budget = await handlers.get_region_budget(payments.context.session_factory, code)
    if budget is None:
        raise NotFound("no such region")
    return schemas.RegionBudgetOut(
        region_code=budget.code,
        revision=budget.revision,
        budget_tiyn=budget.budget_tiyn,
        voucher_monthly_value_tiyn=budget.voucher_monthly_value_tiyn,
        voucher_months=budget.voucher_months,
        max_vouchers_by_direction=budget.max_vouchers_by_direction(),
    )


def _burn_out(burn: budget_watch.RoundBurn) -> schemas.RoundBudgetOut:
    return schemas.RoundBudgetOut(**burn.__dict__)


@router.get("/v1/rounds/{round_id}/budget", tags=["budgets"], responses={404: {}})
async def get_round_budget(round_id: UUID, _: BudgetReader, payments: PaymentsDep) -> schemas.RoundBudgetOut:
    """A round's money: appropriated, committed to vouchers, held, spent, the monthly burn and the forecast."""
    async with payments.context.session_factory() as session:
        round_ = await records.get_round(session, round_id)
        if round_ is None:
            raise NotFound("no such round")
        burn = await budget_watch.round_burn(
            session, round_, policy_of(payments.settings), payments.context.clock.now()
        )
    return _burn_out(burn)


@router.get("/v1/rounds/{round_id}/funding-refusals", tags=["budgets"], responses={404: {}})
async def list_refusals(round_id: UUID, _: BudgetReader, payments: PaymentsDep) -> list[schemas.RefusalOut]:
    """Vouchers allocation awarded that the round's budget could not fund (nothing was posted for them)."""
    async with payments.context.session_factory() as session:
        if await records.get_round(session, round_id) is None:
            raise NotFound("no such round")
        rows = await records.refusals(session, round_id)
    return [
        schemas.RefusalOut(
            voucher_id=r.voucher_id,
            requested_tiyn=r.requested_tiyn,
            available_tiyn=max(0, r.available_at_refusal_tiyn),
            refused_at=r.created_at,
        )
        for r in rows
    ]


@router.get("/v1/regions/{code}/burn", tags=["budgets"], responses={404: {}})
async def get_region_burn(code: RegionCode, _: BudgetReader, payments: PaymentsDep) -> schemas.RegionBurnOut:
    """Burn per round of a region and their totals."""
    async with payments.context.session_factory() as session:
        rounds = await records.rounds_of_region(session, code)
        if not rounds:
            raise NotFound("no funded round in this region")
        now = payments.context.clock.now()
        burns = [await budget_watch.round_burn(session, r, policy_of(payments.settings), now) for r in rounds]
    return schemas.RegionBurnOut(
        region_code=code,
        budget_tiyn=sum(b.budget_tiyn for b in burns),
        committed_tiyn=sum(b.committed_tiyn for b in burns),
        spent_tiyn=sum(b.spent_tiyn for b in burns),
        forecast_tiyn=sum(b.forecast_tiyn for b in burns),
        rounds=[_burn_out(b) for b in burns],
    )


# --- batches ------------------------------------------------------------------------------------------


async def _batch_out(payments: Payments, batch_id: UUID, held_back: list[UUID] | None = None) -> schemas.BatchOut:
    async with payments.context.session_factory() as session:
        batch = await batch_repo.get_batch(session, batch_id)
        if batch is None:
            raise NotFound("no such batch")
        items = await batch_repo.items(session, batch_id)
    fields = {k: v for k, v in batch._mapping.items() if k != "order_xml"}
    return schemas.BatchOut(
        **fields,
        items=[schemas.BatchItemOut(**{k: getattr(i, k) for k in schemas.BatchItemOut.model_fields}) for i in items],
        held_back_providers=held_back or [],
    )


def _staff_id(principal: Principal) -> UUID:
    """Makers and checkers are staff accounts: the token's subject is the account's id, and that id (never a
    username) is what the batch records and PaymentBatchApproved carries."""
    try:
        return UUID(principal.subject)
    except ValueError:
        raise Forbidden("a payment batch is prepared and approved from a staff account's token") from None


@router.post("/v1/batches", tags=["batches"], status_code=201, responses={403: {}, 409: {}, 422: {}})
async def prepare_batch(body: schemas.PrepareBatchIn, maker: Administrator, payments: PaymentsDep) -> schemas.BatchOut:
    """The maker: group a region's unpaid accruals of a month per provider into a batch awaiting approval."""
    prepared = await batches.prepare(
        payments.context.session_factory,
        body.region_code,
        body.period,
        str(_staff_id(maker)),
        payments.context.clock.now(),
    )
    return await _batch_out(payments, prepared.batch_id, prepared.held_back)


@router.get("/v1/batches", tags=["batches"])
async def list_batches(
    _: BatchReader,
    payments: PaymentsDep,
    region_code: Annotated[str | None, Query(pattern=schemas.REGION)] = None,
    period: PeriodQuery = None,
    status: Annotated[str | None, Query(pattern="^(prepared|approved|paid|cancelled)$")] = None,
) -> OffsetPage[schemas.BatchSummaryOut]:
    async with payments.context.session_factory() as session:
        page: OffsetPage[schemas.BatchSummaryOut] = await apaginate(
            session, batch_repo.batches_query(region_code, period, status)
        )
    return page


@router.get("/v1/batches/{batch_id}", tags=["batches"], responses={404: {}})
async def get_batch(batch_id: UUID, _: BatchReader, payments: PaymentsDep) -> schemas.BatchOut:
    return await _batch_out(payments, batch_id)


@router.post("/v1/batches/{batch_id}/approve", tags=["batches"], responses={403: {}, 404: {}, 409: {}})
async def approve_batch(batch_id: UUID, checker: Administrator, payments: PaymentsDep) -> schemas.BatchOut:
    """The checker (a different administrator): approve, write and validate the pain.001 payment order."""
    async with payments.context.session_factory() as session:
        batch = await batch_repo.get_batch(session, batch_id)
    if batch is None:
        raise NotFound("no such batch")
    await batches.approve(
        payments.context.session_factory,
        batch_id,
        str(_staff_id(checker)),
        payments.treasury(batch.region_code),
        payments.settings.payment_initiator_name,
        payments.context.clock.now(),
    )
    return await _batch_out(payments, batch_id)


@router.post("/v1/batches/{batch_id}/cancel", tags=["batches"], responses={404: {}, 409: {}})
async def cancel_batch(batch_id: UUID, admin: Administrator, payments: PaymentsDep) -> schemas.BatchOut:
    """Give up a prepared batch: its accruals become payable again."""
    await batches.cancel(payments.context.session_factory, batch_id, admin.subject)
    return await _batch_out(payments, batch_id)


@router.get(
    "/v1/batches/{batch_id}/payment-order",
    tags=["batches"],
    responses={200: {"content": {"application/xml": {}}}, 404: {}, 409: {}},
    response_class=Response,
)
async def get_payment_order(batch_id: UUID, _: OrderReader, payments: PaymentsDep) -> Response:
    """The approved batch's ISO 20022 pain.001.001.09 file; its sha256 is in the header and in the batch."""
    async with payments.context.session_factory() as session:
        batch = await batch_repo.get_batch(session, batch_id)
    if batch is None or batch.order_xml is None:
        raise NotFound("no payment order for this batch (it exists once the batch is approved)")
    return Response(
        batch.order_xml.encode("utf-8"),
        media_type="application/xml",
        headers={
            "X-Content-SHA256": batch.order_sha256,
            "Content-Disposition": f'attachment; filename="pain001-{batch.region_code}-{batch.period}-{batch_id}.xml"',
        },
    )


@router.post("/v1/batches/{batch_id}/treasury-confirmation", tags=["treasury"], responses={404: {}, 409: {}})
async def confirm_batch(
    batch_id: UUID, body: schemas.TreasuryConfirmationIn, _: Treasury, payments: PaymentsDep
) -> schemas.ConfirmationOut:
    """The treasury executed the whole order: each provider is paid (ProviderPaid); repeating it changes nothing."""
    result = await batches.confirm_batch(
        payments.context.session_factory, batch_id, body.treasury_reference, body.paid_at
    )
    return schemas.ConfirmationOut(**result.__dict__)


@router.post(
    "/v1/treasury/statements",
    tags=["treasury"],
    responses={422: {}},
    openapi_extra={"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def import_statement(request: Request, _: Treasury, payments: PaymentsDep) -> schemas.ConfirmationOut:
    """Import the treasury's statement (CSV: end_to_end_id,amount,currency,reference,booked_at): all lines or none;
    lines imported before are counted as already confirmed."""
    body = await request.body()
    try:
        lines = parse_statement(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Unprocessable("the statement must be UTF-8 text") from None
    except InvalidStatement as exc:
        raise Unprocessable(
            "the statement is not valid; nothing was applied",
            errors=[{"field": f"line {n}", "message": m, "type": "invalid"} for n, m in exc.problems],
        ) from None
    result = await batches.import_statement(payments.context.session_factory, lines)
    return schemas.ConfirmationOut(**result.__dict__)


# --- providers ----------------------------------------------------------------------------------------


def _own_provider(principal: Principal, provider_id: UUID) -> None:
    """Provider staff see only their own organisation's money: anything else is 'not found'."""
    if principal.role == "provider_staff" and principal.scope.get("provider") != str(provider_id):
        raise NotFound("no such provider")


def _status(row: Any) -> str:
    return "paid" if row.paid_at else "in_batch" if row.batch_id else "accrued"


@router.get("/v1/providers/{provider_id}/accruals", tags=["providers"], responses={404: {}})
async def list_accruals(
    provider_id: UUID, principal: MoneyReader, payments: PaymentsDep, period: PeriodQuery = None
) -> OffsetPage[schemas.AccrualOut]:
    """A provider's accruals per month and child (its own staff, administrators, auditors)."""
    _own_provider(principal, provider_id)

    def transform(rows: Any) -> list[schemas.AccrualOut]:
        return [
            schemas.AccrualOut(
                **{k: getattr(r, k) for k in schemas.AccrualOut.model_fields if k != "status"}, status=_status(r)
            )
            for r in rows
        ]

    async with payments.context.session_factory() as session:
        page: OffsetPage[schemas.AccrualOut] = await apaginate(
            session, batch_repo.provider_accruals_query(provider_id, period), transformer=transform
        )
    return page


@router.get("/v1/providers/{provider_id}/statement", tags=["providers"], responses={404: {}})
async def provider_statement(
    provider_id: UUID, principal: MoneyReader, payments: PaymentsDep
) -> schemas.ProviderStatementOut:
    """Accrued and paid per month and child, and what is owed now."""
    _own_provider(principal, provider_id)
    async with payments.context.session_factory() as session:
        rows = await batch_repo.provider_months(session, provider_id)
        payable = await ledger.account(session, account_code(AccountKind.PROVIDER_PAYABLE, provider_id))
    months: dict[str, schemas.MonthOut] = {}
    for r in rows:
        month = months.setdefault(r.period, schemas.MonthOut(period=r.period, accrued_tiyn=0, paid_tiyn=0, children=[]))
        month.accrued_tiyn += int(r.accrued)
        month.paid_tiyn += int(r.paid)
        month.children.append(
            schemas.ChildMonthOut(
                child_id=r.child_id,
                enrolment_id=r.enrolment_id,
                accrued_tiyn=int(r.accrued),
                paid_tiyn=int(r.paid),
                payable_sessions=int(r.payable_sessions),
                planned_sessions=int(r.planned_sessions),
            )
        )
    return schemas.ProviderStatementOut(
        provider_id=provider_id, payable_balance_tiyn=payable.balance if payable else 0, months=list(months.values())
    )


@router.get("/v1/providers/{provider_id}/payments", tags=["providers"], responses={404: {}})
async def list_payments(
    provider_id: UUID, principal: MoneyReader, payments: PaymentsDep
) -> OffsetPage[schemas.PaymentOut]:
    """What the treasury was ordered to pay the provider, per batch, and whether it was paid."""
    _own_provider(principal, provider_id)
    async with payments.context.session_factory() as session:
        page: OffsetPage[schemas.PaymentOut] = await apaginate(session, batch_repo.provider_payments_query(provider_id))
    return page


# --- reconciliation and operations --------------------------------------------------------------------


@router.get("/v1/reconciliation", tags=["reconciliation"])
async def reconcile(
    request: Request,
    _: Reconciler,
    payments: PaymentsDep,
    region_code: Annotated[str | None, Query(pattern=schemas.REGION)] = None,
    period: PeriodQuery = None,
) -> schemas.ReconciliationOut:
    """Check the ledger (sums to zero, balances equal their entries, nothing below zero) and compare it with
    allocation's vouchers and attendance's payable timesheets (the caller's token is forwarded to both)."""
    token = request.headers["authorization"].split(" ", 1)[1]
    settings = payments.settings
    async with open_peers(settings.allocation_url, settings.attendance_url, settings.peer_timeout_s) as peers:
        report = await reconciliation.reconcile(
            payments.context.session_factory, peers, token, region_code, period, payments.context.clock.now()
        )
    return schemas.ReconciliationOut(
        region_code=report.region_code,
        periods=report.periods,
        checked_at=report.checked_at,
        checks=reconciliation.CHECKS,
        findings=[schemas.FindingOut(**f.__dict__) for f in report.findings],
    )


@router.get("/v1/parked-events", tags=["operations"])
async def list_parked(
    _: Ops,
    payments: PaymentsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Offset = 0,
) -> OffsetPage[schemas.ParkedOut]:
    """Events that arrived before what they need (a round, voucher, enrolment or region): applied when it comes."""
    async with payments.context.session_factory() as session:
        total, rows = await records.parked(session, limit, offset)
    return OffsetPage[schemas.ParkedOut](
        items=[schemas.ParkedOut(**r._mapping) for r in rows], total=total, limit=limit, offset=offset
    )
