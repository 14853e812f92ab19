"""The family budget: what the vouchers cover and what a family owes each month, read by the guardian and by the
provider's staff. Both read the same rule (domain/family_budget.py) over the same figures (the ledger's accruals
and the enrolments' and vouchers' projections); the guardians of each child come from registry's events."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from payments.adapters import family_budget_queries, guardian_repository
from payments.domain.family_budget import EnrolmentBudget, FamilyBudget, enrolment_budget, family_budget
from payments.domain.periods import period_of
from payments.service_layer import access
from payments.service_layer.dependencies import Dependencies
from qosym_chassis.auth import Principal
from qosym_contracts.registry import ChildRegisteredV1, GuardianshipEndedV1, GuardianshipEstablishedV1


async def on_child_registered(deps: Dependencies, session: AsyncSession, event: ChildRegisteredV1) -> None:
    await guardian_repository.add_guardian(session, event.child_id, event.guardian_id)


async def on_guardianship_established(
    deps: Dependencies, session: AsyncSession, event: GuardianshipEstablishedV1
) -> None:
    await guardian_repository.add_guardian(session, event.child_id, event.guardian_id)


async def on_guardianship_ended(deps: Dependencies, session: AsyncSession, event: GuardianshipEndedV1) -> None:
    await guardian_repository.remove_guardian(session, event.child_id, event.guardian_id)


async def for_family(deps: Dependencies, caller: Principal) -> FamilyBudget:
    """The caller's children (those they are a guardian of), each month's split, the history and the projection.
    Another parent's token reads their own family: nothing of this one."""
    guardian_id = access.person_id(caller)
    async with deps.sessions() as session:
        terms, timezone = await family_budget_queries.guardian_enrolments(session, guardian_id)
    return family_budget(guardian_id, period_of(deps.clock.now(), timezone or "UTC"), terms)


async def for_provider(deps: Dependencies, caller: Principal, provider_id: UUID) -> tuple[str, list[EnrolmentBudget]]:
    """The same split for each of the provider's enrolments (its own staff; another provider's staff: 404)."""
    access.check_own_provider(caller, provider_id)
    async with deps.sessions() as session:
        terms, timezone = await family_budget_queries.provider_enrolments(session, provider_id)
    current = period_of(deps.clock.now(), timezone or "UTC")
    return current, [enrolment_budget(t, current) for t in terms]
