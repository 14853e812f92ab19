"""HTTP routes for rounds, applications, the published lottery, explanations, what-if and vouchers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, status
from fastapi_pagination.ext.sqlalchemy import apaginate
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from allocation.adapters import rounds_repo
from allocation.adapters.rounds_repo import RoundRow
from allocation.domain.rounds import RoundDraft, RoundState
from allocation.entrypoints.routes import AllocationDep
from allocation.service_layer import rounds
from allocation.service_layer.access import Caller
from qosym_chassis.auth import CurrentPrincipal, Principal, require_roles
from qosym_chassis.inputs import OffsetPage, SafeText
from qosym_contracts.allocation import EarlyCloseReason, VoucherRevokeReason

router = APIRouter()
Administrator = Annotated[Principal, Depends(require_roles("administrator"))]
Parent = Annotated[Principal, Depends(require_roles("parent"))]
Reconciler = Annotated[Principal, Depends(require_roles("administrator", "auditor", "ops"))]


class RoundOut(BaseModel):
    round_id: UUID
    region_code: str
    name: str
    state: RoundState
    budget_tiyn: int
    spent_tiyn: int
    voucher_count: int | None
    awarded_count: int
    quotas: dict[str, dict[str, int]]
    voucher_cost_tiyn: dict[str, int]
    application_opens_at: datetime
    application_closes_at: datetime
    reference_date: date
    voucher_valid_until: date
    age_min: int
    age_max: int
    priority_weights: dict[str, int]
    seed_sha256: str
    seed_hex: str | None = Field(description="revealed once applications are closed")
    result: dict[str, Any] | None


def round_out(r: RoundRow) -> RoundOut:
    revealed = r.state in (RoundState.CLOSED, RoundState.ALLOCATED)
    return RoundOut(
        round_id=r.round_id,
        region_code=r.region_code,
        name=r.name,
        state=r.state,
        budget_tiyn=r.budget_tiyn,
        spent_tiyn=r.spent_tiyn,
        voucher_count=r.voucher_count,
        awarded_count=r.awarded_count,
        quotas=r.quotas,
        voucher_cost_tiyn={d: r.policy.cost(d) for d in r.policy.monthly_value_tiyn},
        application_opens_at=r.application_opens_at,
        application_closes_at=r.application_closes_at,
        reference_date=r.reference_date,
        voucher_valid_until=r.voucher_valid_until,
        age_min=r.policy.age_min,
        age_max=r.policy.age_max,
        priority_weights=r.policy.weights,
        seed_sha256=r.seed_sha256,
        seed_hex=r.seed.hex() if revealed else None,
        result=r.result,
    )


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    child_id: UUID
    direction: SafeText = Field(min_length=1, max_length=64)


class VoucherOut(BaseModel):
    voucher_id: UUID
    round_id: UUID
    child_id: UUID
    direction: str
    monthly_value_tiyn: int
    months: int
    valid_until: date
    assign_by: date
    status: str
    reassignable_until: date | None
    status_reason: str | None = Field(
        default=None, description="why it was revoked (a reason code); the administrator's note is not shown"
    )


class ApplicationOut(BaseModel):
    application_id: UUID
    round_id: UUID
    child_id: UUID
    district_code: str
    direction: str
    status: str
    submitted_at: datetime
    score: int | None
    lottery_number: str | None
    rank: int | None
    waitlist_position: int | None
    voucher: VoucherOut | None


def voucher_out(v: dict[str, Any] | None) -> VoucherOut | None:
    return VoucherOut.model_validate(v) if v else None


def application_out(
    row: dict[str, Any], position: int | None = None, voucher: dict[str, Any] | None = None
) -> ApplicationOut:
    return ApplicationOut(
        application_id=row["application_id"],
        round_id=row["round_id"],
        child_id=row["child_id"],
        district_code=row["district_code"],
        direction=row["direction"],
        status=row["status"],
        submitted_at=row["submitted_at"],
        score=row["score"],
        lottery_number=row["lottery"],
        rank=row["rank"],
        waitlist_position=position,
        voucher=voucher_out(voucher),
    )


class PublishedEntry(BaseModel):
    public_id: UUID
    rank: int
    score: int
    lottery_number: str
    district_code: str
    direction: str
    outcome: str = Field(description="now: awarded, waitlisted, or offered_from_waitlist (a returned voucher)")
    via: str | None = Field(description="how the allocation awarded it (quota or flow)")
    waitlist_position: int | None = Field(description="now: the place in its district × direction queue")
    allocated_outcome: str = Field(description="what the allocation decided (qosym lottery verify re-computes it)")
    allocated_waitlist_position: int | None = Field(description="the place the allocation gave")


class PublishedList(BaseModel):
    round_id: UUID
    region_code: str
    seed_sha256: str
    seed_hex: str
    budget_tiyn: int
    voucher_count: int | None
    voucher_cost_tiyn: dict[str, int]
    quotas: dict[str, dict[str, int]]
    entries: list[PublishedEntry]


class SimulationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[SafeText, Annotated[StrictInt, Field(ge=0, le=1000)]] | None = None
    quotas: dict[SafeText, dict[SafeText, Annotated[StrictInt, Field(ge=0, le=10_000_000)]]] | None = None


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: VoucherRevokeReason = Field(description="a reason code; it is what VoucherRevoked carries")
    note: SafeText | None = Field(
        default=None, min_length=1, max_length=500, description="the administrator's note; it stays in allocation"
    )


@router.post("/v1/rounds", tags=["rounds"], status_code=status.HTTP_201_CREATED, responses={422: {}})
async def create_round(body: RoundDraft, admin: Administrator, allocation: AllocationDep) -> RoundOut:
    """Create a round (draft). The lottery seed's sha256 is published at once; the seed stays secret until close."""
    return round_out(await rounds.create_round(allocation.context.session_factory, body, admin.subject))


@router.get("/v1/rounds", tags=["rounds"])
async def list_rounds(allocation: AllocationDep, region_code: str | None = None) -> list[RoundOut]:
    """Every round (public), newest first, optionally of one region; the seed only once applications closed."""
    return [round_out(r) for r in await rounds.list_rounds(allocation.context.session_factory, region_code)]


@router.get("/v1/rounds/{round_id}", tags=["rounds"], responses={404: {}})
async def get_round(round_id: UUID, allocation: AllocationDep) -> RoundOut:
    """A round (public): state, quotas, budget, seed hash, and the seed once closed."""
    return round_out(await rounds.get_round(allocation.context.session_factory, round_id))


@router.post("/v1/rounds/{round_id}/open", tags=["rounds"], responses={404: {}, 409: {}})
async def open_round(round_id: UUID, _: Administrator, allocation: AllocationDep) -> RoundOut:
    return round_out(await rounds.open_round(allocation.context.session_factory, round_id))


class CloseIn(BaseModel):
    """Only for closing before the announced window end: why (a code, told to applicants) and a note (kept here)."""

    model_config = ConfigDict(extra="forbid")

    reason: EarlyCloseReason
    note: SafeText | None = Field(default=None, min_length=1, max_length=500)


@router.post("/v1/rounds/{round_id}/close", tags=["rounds"], responses={404: {}, 409: {}, 422: {}})
async def close_round(
    round_id: UUID, admin: Administrator, allocation: AllocationDep, body: CloseIn | None = None
) -> RoundOut:
    """Close applications and reveal the seed. Before ``application_closes_at`` only with an early-close ``reason``
    (``demand_met``, ``emergency``, ``schedule_change``, ``configuration_error``): recorded with who closed it, and
    told to applicants; without one it is a 422 naming ``reason``."""
    early = rounds.EarlyClose(body.reason, body.note) if body is not None else None
    return round_out(await rounds.close_round(allocation.context.session_factory, round_id, admin.subject, early))


@router.post("/v1/rounds/{round_id}/allocate", tags=["rounds"], responses={404: {}, 409: {}})
async def allocate_round(round_id: UUID, _: Administrator, allocation: AllocationDep) -> dict[str, Any]:
    """Rank and award once; calling again returns the same result and changes nothing."""
    return await rounds.allocate_round(allocation.context.session_factory, round_id)


@router.get("/v1/rounds/{round_id}/published-list", tags=["rounds"], responses={404: {}, 409: {}})
async def published_list(round_id: UUID, allocation: AllocationDep) -> PublishedList:
    """The ranked list without personal data, and the seed: anyone can re-run the lottery (qosym lottery verify)."""
    r, entries = await rounds.published(allocation.context.session_factory, round_id)
    return PublishedList(
        round_id=r.round_id,
        region_code=r.region_code,
        seed_sha256=r.seed_sha256,
        seed_hex=r.seed.hex(),
        budget_tiyn=r.budget_tiyn,
        voucher_count=r.voucher_count,
        voucher_cost_tiyn={d: r.policy.cost(d) for d in r.policy.monthly_value_tiyn},
        quotas=r.quotas,
        entries=[
            PublishedEntry(
                public_id=e["public_id"],
                rank=e["rank"],
                score=e["score"],
                lottery_number=e["lottery"],
                district_code=e["district_code"],
                direction=e["direction"],
                outcome=e["outcome_now"],
                via=e["allocated_via"],
                waitlist_position=e["position_now"],
                allocated_outcome=e["allocated_outcome"],
                allocated_waitlist_position=e["waitlist_position"],
            )
            for e in entries
        ],
    )


@router.post("/v1/rounds/{round_id}/simulate", tags=["rounds"], responses={404: {}, 409: {}, 422: {}})
async def simulate(round_id: UUID, body: SimulationIn, _: Administrator, allocation: AllocationDep) -> dict[str, Any]:
    """What-if: rank and award with changed weights and/or quotas without storing anything."""
    return await rounds.simulate(allocation.context.session_factory, round_id, body.weights, body.quotas)


@router.post(
    "/v1/rounds/{round_id}/applications",
    tags=["applications"],
    status_code=status.HTTP_201_CREATED,
    responses={404: {}, 409: {}, 422: {}},
)
async def apply(round_id: UUID, body: ApplicationIn, parent: Parent, allocation: AllocationDep) -> ApplicationOut:
    """A guardian applies for their child (one application per child per round)."""
    row = await rounds.apply(
        allocation.context.session_factory, round_id, body.child_id, body.direction, parent.subject
    )
    return application_out(row)


@router.get("/v1/applications", tags=["applications"])
async def my_applications(parent: Parent, allocation: AllocationDep) -> list[ApplicationOut]:
    """The caller's children's applications with their current status."""
    views = await rounds.applications_of(allocation.context.session_factory, parent.subject)
    return [application_out(v.row, v.position, v.voucher) for v in views]


@router.get("/v1/applications/{application_id}", tags=["applications"], responses={404: {}})
async def get_application(
    application_id: UUID, principal: CurrentPrincipal, allocation: AllocationDep
) -> ApplicationOut:
    view = await rounds.view_application(
        allocation.context.session_factory, application_id, principal.subject, Caller.of(principal)
    )
    return application_out(view.row, view.position, view.voucher)


@router.post("/v1/applications/{application_id}/withdraw", tags=["applications"], responses={404: {}, 409: {}})
async def withdraw(application_id: UUID, parent: Parent, allocation: AllocationDep) -> ApplicationOut:
    return application_out(await rounds.withdraw(allocation.context.session_factory, application_id, parent.subject))


@router.get("/v1/applications/{application_id}/explanation", tags=["applications"], responses={404: {}})
async def explanation(application_id: UUID, principal: CurrentPrincipal, allocation: AllocationDep) -> dict[str, Any]:
    """Why: score by category and weight, lottery number, the cutoff of its district × direction, the outcome."""
    return await rounds.explanation(
        allocation.context.session_factory,
        application_id,
        principal.subject,
        Caller.of(principal) if principal.has_role("administrator") else None,
    )


@router.get("/v1/children/{child_id}/vouchers", tags=["vouchers"], responses={404: {}})
async def child_vouchers(child_id: UUID, principal: CurrentPrincipal, allocation: AllocationDep) -> list[VoucherOut]:
    rows = await rounds.vouchers_of_child(
        allocation.context.session_factory, child_id, principal.subject, Caller.of(principal)
    )
    return [VoucherOut.model_validate(v) for v in rows]


@router.get("/v1/rounds/{round_id}/vouchers", tags=["vouchers"], responses={404: {}})
async def round_vouchers(round_id: UUID, _: Reconciler, allocation: AllocationDep) -> OffsetPage[VoucherOut]:
    """Every voucher awarded in the round (re-offers included, any status), for reconciliation with payments."""
    await rounds.get_round(allocation.context.session_factory, round_id)
    async with allocation.context.session_factory() as session:
        page: OffsetPage[VoucherOut] = await apaginate(session, rounds_repo.round_vouchers_query(round_id))
    return page


@router.post("/v1/vouchers/{voucher_id}/decline", tags=["vouchers"], responses={404: {}, 409: {}})
async def decline(voucher_id: UUID, parent: Parent, allocation: AllocationDep) -> dict[str, int]:
    """The holder gives the voucher up; it is re-offered to the next waitlisted child of the round."""
    offered = await rounds.decline_voucher(allocation.context.session_factory, voucher_id, parent.subject)
    return {"re_offered": len(offered)}


@router.post("/v1/vouchers/{voucher_id}/revoke", tags=["vouchers"], responses={404: {}, 409: {}})
async def revoke(voucher_id: UUID, body: RevokeIn, _: Administrator, allocation: AllocationDep) -> dict[str, int]:
    offered = await rounds.revoke_voucher(allocation.context.session_factory, voucher_id, body.reason, body.note)
    return {"re_offered": len(offered)}


@router.post("/v1/vouchers/expiry-sweep", tags=["vouchers"])
async def expiry_sweep(_: Administrator, allocation: AllocationDep, today: date | None = None) -> dict[str, int]:
    """Expire unassigned vouchers past their deadline and return released ones past their grace; re-offer them."""
    day = today or datetime.now(UTC).date()
    return {"expired": await rounds.expire_vouchers(allocation.context.session_factory, day)}
