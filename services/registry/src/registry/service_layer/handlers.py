"""Registry use cases: children, people, guardianship, review flags, consent.

Each runs in one transaction: the state change, its audit row and its outgoing events together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from qosym_chassis import outbox
from qosym_chassis.iin import age_on, parse_iin
from qosym_chassis.protection import IinProtector
from qosym_contracts.allocation import RegionConfiguredV1
from qosym_contracts.registry import (
    ChildDetailsChangedV1,
    ChildRegisteredV1,
    GuardianshipEndedV1,
    GuardianshipEstablishedV1,
)
from registry.adapters import audit, repository
from registry.adapters.audit import Actor
from registry.adapters.orm import category_claim, child, consent, guardianship, person
from registry.domain.model import (
    Child,
    OperatorScope,
    Person,
    RegionRules,
    RegistrationRefused,
    check_place,
    check_registration,
)
from registry.domain.people import ADULT_AGE, check_adult, check_phone, declared_mismatches
from registry.service_layer.access import scope_clause

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class RegisterChild:
    guardian_id: UUID
    iin: str
    region_code: str
    district_code: str
    declared_birth_date: date | None = None
    declared_sex: str | None = None
    actor: Actor | None = None


@dataclass(frozen=True)
class Registered:
    child: Child
    created: bool


class AlreadyRegistered(Exception):
    """The IIN belongs to a person registered by someone else (or with another phone)."""


class RegisteredElsewhere(Exception):
    """The caller's own child is already registered in another region or district: a move goes through the move
    flow (PATCH /v1/children/{id}), never through registering again."""

    def __init__(self, field: str, child_id: UUID) -> None:
        super().__init__(field)
        self.field = field
        self.child_id = child_id


class NotAllowed(Exception):
    """The caller may not see or change this object: answered like a missing one."""


class NotAGuardian(Exception):
    """The caller is not a registered adult person, so cannot be a child's guardian."""


class Refused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)


def _actor(cmd_actor: Actor | None, guardian_id: UUID) -> Actor:
    return cmd_actor or Actor(str(guardian_id), "parent")


async def register_child(sessions: Sessions, protector: IinProtector, cmd: RegisterChild, today: date) -> Registered:
    iin = parse_iin(cmd.iin, today=today)
    index = protector.blind_index(iin.value)
    async with sessions() as session, session.begin():
        await _check_guardian(session, cmd.guardian_id, today)
        existing = await repository.find_child_by_index(session, index)
        if existing is not None:
            if cmd.guardian_id not in await repository.active_guardians(session, existing.id):
                raise AlreadyRegistered()
            if cmd.region_code != existing.region_code:
                raise RegisteredElsewhere("region_code", existing.id)
            if cmd.district_code != existing.district_code:
                raise RegisteredElsewhere("district_code", existing.id)
            return Registered(existing, created=False)
        region = await repository.get_region(session, cmd.region_code)
        check_registration(iin, region, cmd.district_code, today)
        new = Child(
            id=uuid4(),
            guardian_id=cmd.guardian_id,
            birth_date=iin.birth_date,
            sex=iin.sex,
            iin_last4=iin.value[-4:],
            region_code=cmd.region_code,
            district_code=cmd.district_code,
            flags=tuple(declared_mismatches(iin, cmd.declared_birth_date, cmd.declared_sex)),
        )
        ciphertext = protector.encrypt(iin.value, row_id=str(new.id))
        if not await repository.insert_child(session, new, iin_index=index, iin_ciphertext=ciphertext):
            raise AlreadyRegistered()
        await session.execute(
            insert(guardianship).values(child_id=new.id, guardian_id=cmd.guardian_id, relation="parent")
        )
        actor = _actor(cmd.actor, cmd.guardian_id)
        await audit.append(session, actor, "child.registered", "child", new.id, {"flags": list(new.flags)})
        await audit.append(
            session, actor, "guardianship.established", "child", new.id, {"guardian_id": str(cmd.guardian_id)}
        )
        await outbox.add_event(session, _child_registered(new))
        await outbox.add_event(session, GuardianshipEstablishedV1(child_id=new.id, guardian_id=cmd.guardian_id))
    return Registered(new, created=True)


async def _check_guardian(session: AsyncSession, guardian_id: UUID, today: date) -> None:
    guardian = await repository.get_person(session, guardian_id)
    if guardian is None:
        raise NotAGuardian("only a registered person can register a child: register with POST /v1/people first")
    if age_on(guardian.birth_date, today) < ADULT_AGE:
        raise NotAGuardian(f"a guardian must be at least {ADULT_AGE}")


def _child_registered(new: Child) -> ChildRegisteredV1:
    return ChildRegisteredV1(
        child_id=new.id,
        guardian_id=new.guardian_id,
        birth_date=new.birth_date,
        sex="F" if new.sex == "F" else "M",
        region_code=new.region_code,
        district_code=new.district_code,
    )


@dataclass(frozen=True)
class MoveChild:
    """A family moved: the child's region and/or district change (birth date and sex come from the IIN)."""

    child_id: UUID
    guardian_id: UUID
    region_code: str | None = None
    district_code: str | None = None
    actor: Actor | None = None


async def move_child(sessions: Sessions, cmd: MoveChild, today: date) -> Child:
    """Change where a child lives; publishes ChildDetailsChanged. Unchanged details change nothing."""
    async with sessions() as session, session.begin():
        current = await repository.lock_child(session, cmd.child_id)
        if current is None or cmd.guardian_id not in await repository.active_guardians(session, cmd.child_id):
            raise NotAllowed()
        region_code = cmd.region_code or current.region_code
        district_code = cmd.district_code or current.district_code
        if (region_code, district_code) == (current.region_code, current.district_code):
            return current
        check_place(current.birth_date, await repository.get_region(session, region_code), district_code, today)
        await repository.move_child(session, current.id, region_code, district_code)
        moved = replace(current, region_code=region_code, district_code=district_code)
        await audit.append(
            session,
            _actor(cmd.actor, cmd.guardian_id),
            "child.details_changed",
            "child",
            current.id,
            {"region_code": region_code, "district_code": district_code},
        )
        await outbox.add_event(
            session,
            ChildDetailsChangedV1(
                child_id=moved.id,
                birth_date=moved.birth_date,
                sex="F" if moved.sex == "F" else "M",
                region_code=region_code,
                district_code=district_code,
            ),
        )
    return moved


async def get_own_child(sessions: Sessions, child_id: UUID, guardian_id: UUID) -> Child | None:
    async with sessions() as session:
        found = await repository.get_child(session, child_id)
        if found is None or guardian_id not in await repository.active_guardians(session, child_id):
            return None
    return found


async def list_own_children(sessions: Sessions, guardian_id: UUID) -> list[Child]:
    async with sessions() as session:
        return await repository.children_of(session, guardian_id)


async def guardians_of(sessions: Sessions, child_id: UUID, guardian_id: UUID) -> list[UUID]:
    async with sessions() as session:
        guardians = await repository.active_guardians(session, child_id)
    if guardian_id not in guardians:
        raise NotAllowed()
    return guardians


# --- people -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterPerson:
    iin: str
    phone: str
    consents: dict[str, bool] = field(default_factory=dict)
    declared_birth_date: date | None = None
    declared_sex: str | None = None


@dataclass(frozen=True)
class PersonRegistered:
    person: Person
    created: bool


async def register_person(
    sessions: Sessions, protector: IinProtector, cmd: RegisterPerson, today: date
) -> PersonRegistered:
    """An adult (a parent or guardian) with a phone on record; the same IIN and phone again is the same person."""
    iin = parse_iin(cmd.iin, today=today)
    check_adult(iin, today)
    phone = check_phone(cmd.phone)
    index = protector.blind_index(iin.value)
    async with sessions() as session, session.begin():
        existing = await repository.find_person_by_index(session, index)
        if existing is not None:
            if existing.phone != phone:
                raise AlreadyRegistered()
            return PersonRegistered(existing, created=False)
        person_id = uuid4()
        flags = declared_mismatches(iin, cmd.declared_birth_date, cmd.declared_sex)
        inserted = await session.execute(
            pg_insert(person)
            .values(
                id=person_id,
                iin_index=index,
                iin_ciphertext=protector.encrypt(iin.value, row_id=str(person_id)),
                iin_last4=iin.value[-4:],
                birth_date=iin.birth_date,
                sex=iin.sex,
                phone=phone,
                flags=flags,
            )
            .on_conflict_do_nothing(index_elements=[person.c.iin_index])
            .returning(person.c.id)
        )
        if inserted.first() is None:
            raise AlreadyRegistered()
        for purpose, granted in sorted(cmd.consents.items()):
            await session.execute(insert(consent).values(person_id=person_id, purpose=purpose, granted=granted))
        actor = Actor(str(person_id), "parent")
        await audit.append(session, actor, "person.registered", "person", person_id, {"flags": flags})
        if cmd.consents:
            await audit.append(session, actor, "consent.recorded", "person", person_id, {"consents": cmd.consents})
    return PersonRegistered(Person(person_id, iin.birth_date, iin.sex, iin.value[-4:], phone, tuple(flags)), True)


async def get_person(sessions: Sessions, person_id: UUID) -> Person | None:
    async with sessions() as session:
        return await repository.get_person(session, person_id)


async def record_consent(sessions: Sessions, person_id: UUID, purpose: str, granted: bool) -> None:
    async with sessions() as session, session.begin():
        if await repository.get_person(session, person_id) is None:
            raise NotAllowed()
        await session.execute(insert(consent).values(person_id=person_id, purpose=purpose, granted=granted))
        await audit.append(
            session, Actor(str(person_id), "parent"), "consent.recorded", "person", person_id, {purpose: granted}
        )


async def consents_of(session: AsyncSession, person_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(consent.c.purpose, consent.c.granted, consent.c.recorded_at)
        .where(consent.c.person_id == person_id)
        .order_by(consent.c.id)
    )
    return [dict(r) for r in rows.mappings()]


# --- guardianship -----------------------------------------------------------------------------------


async def link_guardian(
    sessions: Sessions, protector: IinProtector, child_id: UUID, actor: Actor, iin_raw: str, relation: str, today: date
) -> UUID:
    iin = parse_iin(iin_raw, today=today)
    async with sessions() as session, session.begin():
        guardians = await repository.active_guardians(session, child_id)
        if UUID(actor.subject) not in guardians:
            raise NotAllowed()
        second = await repository.find_person_by_index(session, protector.blind_index(iin.value))
        if second is None:
            raise RegistrationRefused("iin", "person_not_registered", "the second guardian must register first")
        check_adult(iin, today)
        if second.id in guardians:
            return second.id
        await session.execute(insert(guardianship).values(child_id=child_id, guardian_id=second.id, relation=relation))
        await audit.append(
            session, actor, "guardianship.established", "child", child_id, {"guardian_id": str(second.id)}
        )
        await outbox.add_event(
            session,
            GuardianshipEstablishedV1(child_id=child_id, guardian_id=second.id, relation=relation),  # type: ignore[arg-type]
        )
    return second.id


async def unlink_guardian(sessions: Sessions, child_id: UUID, actor: Actor, guardian_id: UUID) -> None:
    async with sessions() as session, session.begin():
        guardians = await repository.active_guardians(session, child_id)
        if UUID(actor.subject) not in guardians or guardian_id not in guardians:
            raise NotAllowed()
        if len(guardians) == 1:
            raise Refused("a child keeps at least one guardian")
        await session.execute(
            update(guardianship)
            .where(
                guardianship.c.child_id == child_id,
                guardianship.c.guardian_id == guardian_id,
                guardianship.c.ended_at.is_(None),
            )
            .values(ended_at=datetime.now(UTC))
        )
        await audit.append(session, actor, "guardianship.ended", "child", child_id, {"guardian_id": str(guardian_id)})
        await outbox.add_event(session, GuardianshipEndedV1(child_id=child_id, guardian_id=guardian_id))


# --- operator review of flagged records -------------------------------------------------------------


async def flagged(sessions: Sessions, scope: OperatorScope) -> list[dict[str, Any]]:
    async with sessions() as session:
        children_q = select(child.c.id, child.c.flags, child.c.region_code).where(child.c.flags != [])
        if scope.limited:
            children_q = children_q.where(scope_clause(scope, child.c.region_code, child.c.district_code))
        items = [
            {"entity": "child", "id": r["id"], "flags": r["flags"], "region_code": r["region_code"]}
            for r in (await session.execute(children_q)).mappings()
        ]
        if not scope.limited:
            people = await session.execute(select(person.c.id, person.c.flags).where(person.c.flags != []))
            items += [
                {"entity": "person", "id": r["id"], "flags": r["flags"], "region_code": None} for r in people.mappings()
            ]
    return items


async def clear_flags(sessions: Sessions, entity: str, row_id: UUID, actor: Actor, scope: OperatorScope) -> None:
    table = child if entity == "child" else person
    async with sessions() as session, session.begin():
        row = (await session.execute(select(table).where(table.c.id == row_id))).mappings().first()
        if row is None or (
            scope.limited and (entity != "child" or not scope.covers(row["region_code"], row["district_code"]))
        ):
            raise NotAllowed()
        await session.execute(update(table).where(table.c.id == row_id).values(flags=[]))
        await audit.append(session, actor, "flags.cleared", entity, row_id, {"flags": row["flags"]})


# --- export -----------------------------------------------------------------------------------------


async def export(sessions: Sessions, person_id: UUID) -> dict[str, Any]:
    async with sessions() as session:
        me = await repository.get_person(session, person_id)
        kids = await repository.children_of(session, person_id)
        claims = (
            (
                await session.execute(
                    select(category_claim).where(category_claim.c.child_id.in_([k.id for k in kids]))
                    if kids
                    else select(category_claim).where(False)
                )
            )
            .mappings()
            .all()
        )
        return {
            "person": None
            if me is None
            else {
                "id": me.id,
                "iin_masked": "********" + me.iin_last4,
                "birth_date": me.birth_date,
                "sex": me.sex,
                "phone": me.phone,
                "flags": list(me.flags),
            },
            "consents": await consents_of(session, person_id),
            "children": [
                {
                    "id": k.id,
                    "iin_masked": "********" + k.iin_last4,
                    "birth_date": k.birth_date,
                    "sex": k.sex,
                    "region_code": k.region_code,
                    "district_code": k.district_code,
                    "guardians": await repository.active_guardians(session, k.id),
                    "categories": [
                        {key: c[key] for key in ("id", "code", "status", "valid_from", "valid_until", "reason")}
                        for c in claims
                        if c["child_id"] == k.id
                    ],
                }
                for k in kids
            ],
        }


async def apply_region_configured(session: AsyncSession, event: RegionConfiguredV1) -> None:
    rules = RegionRules(
        code=event.region_code,
        districts=frozenset(d.code for d in event.districts),
        child_age_min=event.child_age_min,
        child_age_max=event.child_age_max,
        category_codes=frozenset(event.priority_weights),
    )
    await repository.upsert_region(session, rules, event.revision)


__all__ = ["AlreadyRegistered", "RegistrationRefused", "register_child"]
