"""Registry use cases. Each runs in one transaction: state change and outgoing events together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from qosym_chassis import outbox
from qosym_contracts.allocation import RegionConfiguredV1
from qosym_contracts.registry import ChildRegisteredV1
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from registry.adapters import repository
from registry.adapters.protection import IinProtector
from registry.domain.iin import parse_iin
from registry.domain.model import Child, RegionRules, RegistrationRefused, check_registration


@dataclass(frozen=True)
class RegisterChild:
    guardian_id: UUID
    iin: str
    region_code: str
    district_code: str


@dataclass(frozen=True)
class Registered:
    child: Child
    created: bool


class AlreadyRegistered(Exception):
    """The IIN belongs to a child registered by another guardian."""


async def register_child(
    sessions: async_sessionmaker[AsyncSession], protector: IinProtector, cmd: RegisterChild, today: date
) -> Registered:
    iin = parse_iin(cmd.iin, today=today)
    index = protector.blind_index(iin.value)
    async with sessions() as session, session.begin():
        existing = await repository.find_child_by_index(session, index)
        if existing is not None:
            return _same_guardian_or_refuse(existing, cmd.guardian_id)
        region = await repository.get_region(session, cmd.region_code)
        check_registration(iin, region, cmd.district_code, today)
        child = Child(
            id=uuid4(),
            guardian_id=cmd.guardian_id,
            birth_date=iin.birth_date,
            sex=iin.sex,
            iin_last4=iin.value[-4:],
            region_code=cmd.region_code,
            district_code=cmd.district_code,
        )
        ciphertext = protector.encrypt(iin.value, row_id=str(child.id))
        if not await repository.insert_child(session, child, iin_index=index, iin_ciphertext=ciphertext):
            raise AlreadyRegistered()
        await outbox.add_event(session, _child_registered(child))
    return Registered(child, created=True)


def _same_guardian_or_refuse(existing: Child, guardian_id: UUID) -> Registered:
    if existing.guardian_id != guardian_id:
        raise AlreadyRegistered()
    return Registered(existing, created=False)


def _child_registered(child: Child) -> ChildRegisteredV1:
    return ChildRegisteredV1(
        child_id=child.id,
        guardian_id=child.guardian_id,
        birth_date=child.birth_date,
        sex="F" if child.sex == "F" else "M",
        region_code=child.region_code,
        district_code=child.district_code,
    )


async def get_own_child(sessions: async_sessionmaker[AsyncSession], child_id: UUID, guardian_id: UUID) -> Child | None:
    async with sessions() as session:
        child = await repository.get_child(session, child_id)
    if child is None or child.guardian_id != guardian_id:
        return None
    return child


async def apply_region_configured(session: AsyncSession, event: RegionConfiguredV1) -> None:
    rules = RegionRules(
        code=event.region_code,
        districts=frozenset(d.code for d in event.districts),
        child_age_min=event.child_age_min,
        child_age_max=event.child_age_max,
    )
    await repository.upsert_region(session, rules, event.revision)


__all__ = ["AlreadyRegistered", "RegistrationRefused", "register_child"]
