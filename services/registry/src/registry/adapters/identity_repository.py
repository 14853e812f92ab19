"""All SQL for logins: one-time-code challenges, refresh tokens, staff accounts, partner service accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import DateTime, LargeBinary, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from registry.adapters.orm import otp_challenge, person, refresh_token, service_account, staff


class UsernameTaken(Exception):
    pass


@dataclass(frozen=True)
class Challenge:
    person_id: UUID
    code_hash: bytes
    attempts: int
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True)
class RefreshToken:
    token_hash: bytes
    family_id: UUID
    subject: str
    role: str
    scope: dict[str, str]
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class StaffAccount:
    id: UUID
    role: str
    scope: dict[str, str]
    active: bool
    password_hash: str
    totp_ciphertext: bytes


@dataclass(frozen=True)
class ServiceAccount:
    client_id: str
    active: bool
    secret_hash: str


async def add_challenge(
    session: AsyncSession, challenge_id: UUID, person_id: UUID | None, code_hash: bytes, expires_at: datetime
) -> None:
    """The same insert statement for a known and an unknown person: it copies the person row it names into a
    challenge, and for an unknown one (``person_id`` None: a random id that names nobody) inserts nothing."""
    values = select(
        literal(challenge_id, PgUUID(as_uuid=True)),
        person.c.id,
        literal(code_hash, LargeBinary()),
        literal(expires_at, DateTime(timezone=True)),
    ).where(person.c.id == (person_id or uuid4()))
    await session.execute(insert(otp_challenge).from_select(["id", "person_id", "code_hash", "expires_at"], values))


async def lock_challenge(session: AsyncSession, challenge_id: UUID) -> Challenge | None:
    row = (
        (
            await session.execute(
                select(
                    otp_challenge.c.person_id,
                    otp_challenge.c.code_hash,
                    otp_challenge.c.attempts,
                    otp_challenge.c.expires_at,
                    otp_challenge.c.used_at,
                )
                .where(otp_challenge.c.id == challenge_id)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    return Challenge(**row) if row else None


async def count_wrong_code(session: AsyncSession, challenge_id: UUID) -> None:
    await session.execute(
        update(otp_challenge).where(otp_challenge.c.id == challenge_id).values(attempts=otp_challenge.c.attempts + 1)
    )


async def use_challenge(session: AsyncSession, challenge_id: UUID, at: datetime) -> None:
    await session.execute(update(otp_challenge).where(otp_challenge.c.id == challenge_id).values(used_at=at))


async def add_refresh_token(
    session: AsyncSession,
    token_hash: bytes,
    family_id: UUID,
    subject: str,
    role: str,
    scope: dict[str, str],
    expires_at: datetime,
) -> None:
    await session.execute(
        insert(refresh_token).values(
            token_hash=token_hash, family_id=family_id, subject=subject, role=role, scope=scope, expires_at=expires_at
        )
    )


async def lock_refresh_token(session: AsyncSession, token_hash: bytes) -> RefreshToken | None:
    row = (
        (
            await session.execute(
                select(*[refresh_token.c[name] for name in RefreshToken.__dataclass_fields__])
                .where(refresh_token.c.token_hash == token_hash)
                .with_for_update()
            )
        )
        .mappings()
        .first()
    )
    return RefreshToken(**row) if row else None


async def spend_refresh_token(session: AsyncSession, token_hash: bytes, at: datetime) -> None:
    await session.execute(update(refresh_token).where(refresh_token.c.token_hash == token_hash).values(used_at=at))


async def family_of(session: AsyncSession, token_hash: bytes) -> UUID | None:
    family: UUID | None = (
        await session.execute(select(refresh_token.c.family_id).where(refresh_token.c.token_hash == token_hash))
    ).scalar()
    return family


async def revoke_family(session: AsyncSession, family_id: UUID, at: datetime) -> None:
    await session.execute(
        update(refresh_token)
        .where(refresh_token.c.family_id == family_id, refresh_token.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def add_staff(session: AsyncSession, **values: Any) -> None:
    """Raises ``UsernameTaken`` (the transaction is then spent) when the username exists."""
    try:
        await session.execute(insert(staff).values(**values))
    except IntegrityError as exc:
        raise UsernameTaken() from exc


async def staff_by_username(session: AsyncSession, username: str) -> StaffAccount | None:
    row = (
        (
            await session.execute(
                select(*[staff.c[name] for name in StaffAccount.__dataclass_fields__]).where(
                    staff.c.username == username
                )
            )
        )
        .mappings()
        .first()
    )
    return StaffAccount(**row) if row else None


@dataclass(frozen=True)
class StaffSummary:
    id: UUID
    username: str
    role: str
    scope: dict[str, str]
    active: bool


async def list_staff(session: AsyncSession, limit: int) -> list[StaffSummary]:
    columns = [staff.c[name] for name in StaffSummary.__dataclass_fields__]
    rows = await session.execute(select(*columns).order_by(staff.c.username).limit(limit))
    return [StaffSummary(**row) for row in rows.mappings()]


async def lock_staff(session: AsyncSession, staff_id: UUID) -> StaffSummary | None:
    columns = [staff.c[name] for name in StaffSummary.__dataclass_fields__]
    row = (await session.execute(select(*columns).where(staff.c.id == staff_id).with_for_update())).mappings().first()
    return StaffSummary(**row) if row else None


async def change_staff_access(session: AsyncSession, staff_id: UUID, role: str, scope: dict[str, str]) -> None:
    await session.execute(update(staff).where(staff.c.id == staff_id).values(role=role, scope=scope))


async def revoke_sessions_of(session: AsyncSession, subject: str, at: datetime) -> None:
    """Every refresh token of the subject still usable: the next sign-in carries the account's new role and scope."""
    await session.execute(
        update(refresh_token)
        .where(refresh_token.c.subject == subject, refresh_token.c.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def any_staff(session: AsyncSession) -> bool:
    return (await session.execute(select(staff.c.id).limit(1))).first() is not None


# pg_advisory_xact_lock key of the first-administrator bootstrap: two runs at once cannot both see "no administrator"
BOOTSTRAP_LOCK = 0x51_6F_73_79_6D_41_64_6D  # "QosymAdm"


async def lock_administrator_bootstrap(session: AsyncSession) -> None:
    """Held until the caller's transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(BOOTSTRAP_LOCK)))


async def any_administrator(session: AsyncSession) -> bool:
    """An active administrator account exists (an inactive one cannot sign in to create another)."""
    query = select(staff.c.id).where(staff.c.role == "administrator", staff.c.active).limit(1)
    return (await session.execute(query)).first() is not None


async def add_service_account(session: AsyncSession, client_id: str, name: str, secret_hash: str) -> None:
    await session.execute(insert(service_account).values(client_id=client_id, name=name, secret_hash=secret_hash))


async def service_account_by_id(session: AsyncSession, client_id: str) -> ServiceAccount | None:
    row = (
        (
            await session.execute(
                select(service_account.c.client_id, service_account.c.active, service_account.c.secret_hash).where(
                    service_account.c.client_id == client_id
                )
            )
        )
        .mappings()
        .first()
    )
    return ServiceAccount(**row) if row else None
