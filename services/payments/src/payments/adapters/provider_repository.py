"""Providers as catalog verified them (name, BIN, bank details)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from payments.domain.aggregates import Provider


async def upsert_provider(session: AsyncSession, provider: Provider) -> None:
    await session.execute(
        text(
            "INSERT INTO provider (provider_id, bin, name, region_code, iban, bank_bic)"
            " VALUES (:p, :bin, :name, :region, :iban, :bic) ON CONFLICT (provider_id) DO UPDATE SET"
            " bin = excluded.bin, name = excluded.name, region_code = excluded.region_code, iban = excluded.iban,"
            " bank_bic = excluded.bank_bic, updated_at = now()"
        ),
        {
            "p": provider.provider_id,
            "bin": provider.bin,
            "name": provider.name,
            "region": provider.region_code,
            "iban": provider.iban,
            "bic": provider.bank_bic,
        },
    )


async def providers(session: AsyncSession, ids: list[UUID]) -> dict[UUID, Provider]:
    rows = await session.execute(
        text("SELECT provider_id, bin, name, region_code, iban, bank_bic FROM provider WHERE provider_id = ANY(:ids)"),
        {"ids": ids},
    )
    return {r.provider_id: Provider(r.provider_id, r.bin, r.name, r.region_code, r.iban, r.bank_bic) for r in rows}
