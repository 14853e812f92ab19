"""Providers: registration, operator verification, suspension."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.adapters.orm import provider
from catalog.domain.identifiers import parse_bin, parse_kz_iban
from catalog.domain.programmes import RuleBroken, provider_move
from catalog.service_layer import handlers
from catalog.service_layer.access import Caller
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, NotFound
from qosym_contracts.catalog import ProviderSuspendedV1, ProviderSuspendReason, ProviderVerifiedV1

Sessions = async_sessionmaker[AsyncSession]


async def register(sessions: Sessions, caller: Caller, data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    if caller.role == "operator" and not caller.serves(values["region_code"], values["district_code"]):
        field = "region_code" if not caller.in_region(values["region_code"]) else "district_code"
        raise RuleBroken(field, "outside this operator's scope", "outside_scope")
    values["bin"] = parse_bin(values["bin"])
    values["bank"] = dict(values["bank"], iban=parse_kz_iban(values["bank"]["iban"]))
    async with sessions() as session, session.begin():
        await handlers.check_place(session, values["region_code"], values["district_code"])
        row = (
            (
                await session.execute(
                    insert(provider)
                    .values(id=uuid4(), registered_by=caller.subject, status="pending", **values)
                    .on_conflict_do_nothing(index_elements=[provider.c.bin])
                    .returning(*provider.c)
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise Conflict("a provider with this BIN is already registered")
        return dict(row)


async def load(session: AsyncSession, provider_id: UUID, *, lock: bool = False) -> dict[str, Any] | None:
    query = select(provider).where(provider.c.id == provider_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def get(sessions: Sessions, caller: Caller, provider_id: UUID) -> dict[str, Any]:
    async with sessions() as session:
        row = await load(session, provider_id)
    if row is None or not caller.manages_provider(row):
        raise NotFound("no such provider")
    return row


async def listed(
    sessions: Sessions, caller: Caller, status: str | None, region_code: str | None, bin_: str | None
) -> list[dict[str, Any]]:
    """Providers an operator serves (their region and district; an administrator all), oldest first: the
    review queue with ``status="pending"``, or one organisation by its BIN."""
    query = select(provider).order_by(provider.c.created_at, provider.c.id)
    if status:
        query = query.where(provider.c.status == status)
    if region_code:
        query = query.where(provider.c.region_code == region_code)
    if bin_:
        query = query.where(provider.c.bin == bin_)
    query = query.where(caller.serves_clause(provider.c.region_code, provider.c.district_code))
    async with sessions() as session:
        rows = (await session.execute(query)).mappings().all()
    return [dict(r) for r in rows]


async def decide(
    sessions: Sessions,
    caller: Caller,
    provider_id: UUID,
    action: str,
    reason: str | None,
    *,
    reason_code: ProviderSuspendReason = "other",
) -> dict[str, Any]:
    """An operator of the provider's region (and district) verifies, rejects or suspends (a suspended provider
    can be verified again); a provider outside the operator's scope is not found."""
    async with sessions() as session, session.begin():
        current = await load(session, provider_id, lock=True)
        if current is None or not caller.serves(current["region_code"], current["district_code"]):
            raise NotFound("no such provider")
        status = provider_move(current["status"], action)
        row = (
            (
                await session.execute(
                    update(provider)
                    .where(provider.c.id == provider_id)
                    .values(status=status, status_reason=reason, updated_at=func.now())
                    .returning(*provider.c)
                )
            )
            .mappings()
            .one()
        )
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
        return dict(row)
