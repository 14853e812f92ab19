"""All SQL of a person's preferences (contacts stay sealed here) and of the group audiences they belong to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.adapters.orm import audience_member, preference


@dataclass(frozen=True)
class StoredPreference:
    """A person's stored preferences; the contacts still sealed (``ContactBox`` opens them)."""

    person_id: UUID
    language: str | None
    timezone: str
    email_enc: bytes | None
    email_consent_at: datetime | None
    phone_enc: bytes | None
    phone_consent_at: datetime | None
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None


@dataclass(frozen=True)
class PreferenceValues:
    """What a change writes; a sealed contact of None deletes the stored one (and its consent time)."""

    language: str
    timezone: str
    email_enc: bytes | None
    phone_enc: bytes | None
    channels: dict[str, list[str]]
    quiet_start: time | None
    quiet_end: time | None
    at: datetime  # the change's time: the consent time of every address it keeps


def _stored(row: RowMapping) -> StoredPreference:
    return StoredPreference(
        person_id=row["person_id"],
        language=row["language"],
        timezone=row["timezone"],
        email_enc=row["email_enc"],
        email_consent_at=row["email_consent_at"],
        phone_enc=row["phone_enc"],
        phone_consent_at=row["phone_consent_at"],
        channels=dict(row["channels"] or {}),
        quiet_start=row["quiet_start"],
        quiet_end=row["quiet_end"],
    )


async def get_preference(session: AsyncSession, person_id: UUID) -> StoredPreference | None:
    row = (await session.execute(select(preference).where(preference.c.person_id == person_id))).mappings().first()
    return _stored(row) if row else None


async def get_preferences(session: AsyncSession, person_ids: Iterable[UUID]) -> dict[UUID, StoredPreference]:
    wanted = list(set(person_ids))
    if not wanted:
        return {}
    rows = (await session.execute(select(preference).where(preference.c.person_id.in_(wanted)))).mappings().all()
    return {r["person_id"]: _stored(r) for r in rows}


async def put_preference(session: AsyncSession, person_id: UUID, change: PreferenceValues) -> None:
    """Replace the person's preferences; every change that keeps an address re-affirms consent to it."""
    values: dict[str, Any] = {
        "language": change.language,
        "timezone": change.timezone,
        "channels": change.channels,
        "quiet_start": change.quiet_start,
        "quiet_end": change.quiet_end,
        "email_enc": change.email_enc,
        "email_consent_at": change.at if change.email_enc is not None else None,
        "phone_enc": change.phone_enc,
        "phone_consent_at": change.at if change.phone_enc is not None else None,
        "updated_at": func.now(),
    }
    await session.execute(
        insert(preference)
        .values(person_id=person_id, **values)
        .on_conflict_do_update(index_elements=[preference.c.person_id], set_=values)
    )


async def set_memberships(session: AsyncSession, person_id: UUID, audiences: Iterable[str]) -> None:
    groups = [a for a in audiences if not a.startswith("person:")]
    await session.execute(
        delete(audience_member).where(
            audience_member.c.person_id == person_id, audience_member.c.audience.not_in(groups)
        )
    )
    for audience in groups:
        await session.execute(
            insert(audience_member)
            .values(person_id=person_id, audience=audience)
            .on_conflict_do_update(
                index_elements=[audience_member.c.person_id, audience_member.c.audience],
                set_={"updated_at": func.now()},
            )
        )


async def members_of(session: AsyncSession, audience: str) -> list[UUID]:
    prefix = audience.partition(":")[0]
    matches = [audience]
    if prefix == "administrators":
        matches.append("administrators:*")  # national administrators read every region's
    rows = await session.execute(
        select(audience_member.c.person_id).where(audience_member.c.audience.in_(matches)).distinct()
    )
    return [r.person_id for r in rows]
