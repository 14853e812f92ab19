"""Providers: registration, operator verification, suspension."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from catalog.adapters import provider_repository
from catalog.domain.identifiers import parse_bic, parse_bin, parse_kz_iban
from catalog.domain.programmes import RuleBroken, provider_move
from catalog.service_layer import regions
from catalog.service_layer.access import Caller
from catalog.service_layer.dependencies import Dependencies
from catalog.service_layer.models import ProviderOut
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.catalog import ProviderSuspendedV1, ProviderSuspendReason, ProviderVerifiedV1


async def register(deps: Dependencies, caller: Caller, data: dict[str, Any]) -> ProviderOut:
    values = dict(data)
    if caller.role == "operator" and not caller.serves(values["region_code"], values["district_code"]):
        field = "region_code" if not caller.in_region(values["region_code"]) else "district_code"
        raise RuleBroken(field, "outside this operator's scope", "outside_scope")
    values["bin"] = parse_bin(values["bin"])
    bank = values["bank"]
    values["bank"] = dict(bank, iban=parse_kz_iban(bank["iban"]), bik=parse_bic(bank["bik"], field="bank.bik"))
    async with deps.sessions() as session, session.begin():
        await regions.check_place(session, values["region_code"], values["district_code"])
        row = await provider_repository.add_pending(session, caller.subject, values)
        if row is None:
            raise Conflict("a provider with this BIN is already registered")
    return ProviderOut(**row)


async def get(deps: Dependencies, caller: Caller, provider_id: UUID) -> ProviderOut:
    async with deps.sessions() as session:
        row = await provider_repository.load(session, provider_id)
    if row is None or not caller.manages_provider(row):
        raise NotFound("no such provider")
    return ProviderOut(**row)


async def listed(
    deps: Dependencies,
    caller: Caller,
    status: str | None,
    region_code: str | None,
    bin_: str | None,
    limit: int,
    offset: int,
) -> OffsetPage[ProviderOut]:
    """Providers an operator serves (their region and district; an administrator all), oldest first: the
    review queue with ``status="pending"``, or one organisation by its BIN."""
    async with deps.sessions() as session:
        rows, total = await provider_repository.listed(session, caller.reach, status, region_code, bin_, limit, offset)
    return OffsetPage[ProviderOut](items=[ProviderOut(**r) for r in rows], total=total, limit=limit, offset=offset)


async def decide(
    deps: Dependencies,
    caller: Caller,
    provider_id: UUID,
    action: str,
    reason: str | None,
    *,
    reason_code: ProviderSuspendReason = "other",
) -> ProviderOut:
    """An operator of the provider's region (and district) verifies, rejects or suspends (a suspended provider
    can be verified again); a provider outside the operator's scope is not found."""
    async with deps.sessions() as session, session.begin():
        current = await provider_repository.load(session, provider_id, lock=True)
        if current is None or not caller.serves(current["region_code"], current["district_code"]):
            raise NotFound("no such provider")
        status = provider_move(current["status"], action)
        row = await provider_repository.set_status(session, provider_id, status, reason)
        if status == "verified":
            await outbox.add_event(
                session,
                ProviderVerifiedV1(
                    provider_id=provider_id,
                    bin=row["bin"],
                    name=row["name"],
                    region_code=row["region_code"],
                    district_code=row["district_code"],
                    iban=row["bank"].get("iban"),
                    bank_bic=row["bank"].get("bik"),
                ),
            )
        elif status == "suspended":
            await outbox.add_event(session, ProviderSuspendedV1(provider_id=provider_id, reason=reason_code))
    await deps.cache.invalidate()
    return ProviderOut(**row)
