"""Children: registering one (idempotent for its guardian), moving it, a guardian's own children.

Each change runs in one transaction: the state change, its audit row and its outgoing events together
(docs/architecture.md, "Delivery").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from qosym_chassis import outbox
from qosym_chassis.errors import NotFound
from qosym_chassis.iin import parse_iin
from qosym_contracts.registry import ChildDetailsChangedV1, ChildRegisteredV1, GuardianshipEstablishedV1
from registry.adapters import audit, people_repository, region_repository
from registry.adapters import children_repository as children
from registry.adapters.audit import Actor
from registry.domain.errors import AlreadyRegistered
from registry.domain.guardianship import ANOTHER_GUARDIAN, check_can_be_guardian, is_guardian, registering_again
from registry.domain.model import Child, check_place, check_registration
from registry.domain.people import declared_mismatches
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.paging import Page

NO_SUCH_CHILD = "no such child"


@dataclass(frozen=True)
class RegisterChild:
    guardian_id: UUID
    iin: str
    region_code: str
    district_code: str
    declared_birth_date: date | None = None
    declared_sex: str | None = None
    actor: Actor | None = None
    name: str | None = None


@dataclass(frozen=True)
class Registered:
    child: Child
    created: bool


@dataclass(frozen=True)
class MoveChild:
    """A family moved: the child's region and/or district change (birth date and sex come from the IIN)."""

    child_id: UUID
    guardian_id: UUID
    region_code: str | None = None
    district_code: str | None = None
    actor: Actor | None = None
    name: str | None = None  # the display name (unchanged when None; never published)
    clear_name: bool = False  # the guardian removes the display name (``"name": null``)


def _actor(cmd_actor: Actor | None, guardian_id: UUID) -> Actor:
    return cmd_actor or Actor(str(guardian_id), "parent")


async def register_child(deps: Dependencies, cmd: RegisterChild) -> Registered:
    today = deps.clock.today()
    iin = parse_iin(cmd.iin, today=today)
    index = deps.protector.blind_index(iin.value)
    async with deps.sessions() as session, session.begin():
        check_can_be_guardian(await people_repository.get_person(session, cmd.guardian_id), today)
        existing = await children.find_child_by_index(session, index)
        if existing is not None:
            guardians = await children.active_guardians(session, existing.id)
            same = registering_again(existing, guardians, cmd.guardian_id, cmd.region_code, cmd.district_code)
            return Registered(same, created=False)
        region = await region_repository.get_region(session, cmd.region_code)
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
            name=cmd.name,
        )
        ciphertext = deps.protector.encrypt(iin.value, row_id=str(new.id))
        if not await children.insert_child(session, new, iin_index=index, iin_ciphertext=ciphertext):
            raise AlreadyRegistered(ANOTHER_GUARDIAN)
        await children.add_guardian(session, new.id, cmd.guardian_id, "parent")
        actor = _actor(cmd.actor, cmd.guardian_id)
        await audit.append(session, actor, "child.registered", "child", new.id, {"flags": list(new.flags)})
        await audit.append(
            session, actor, "guardianship.established", "child", new.id, {"guardian_id": str(cmd.guardian_id)}
        )
        await outbox.add_event(session, _child_registered(new))
        await outbox.add_event(session, GuardianshipEstablishedV1(child_id=new.id, guardian_id=cmd.guardian_id))
    return Registered(new, created=True)


def _child_registered(new: Child) -> ChildRegisteredV1:
    return ChildRegisteredV1(
        child_id=new.id,
        guardian_id=new.guardian_id,
        birth_date=new.birth_date,
        sex="F" if new.sex == "F" else "M",
        region_code=new.region_code,
        district_code=new.district_code,
    )


async def move_child(deps: Dependencies, cmd: MoveChild, *, missing: str = NO_SUCH_CHILD) -> Child:
    """Change where a child lives (publishes ChildDetailsChanged) and/or their display name (published nowhere: it
    stays in the registry). Unchanged details change nothing. Anyone but one
    of the child's guardians is answered as for a missing child (``missing``)."""
    async with deps.sessions() as session, session.begin():
        return await _move(deps, session, cmd, missing)


async def _move(deps: Dependencies, session: AsyncSession, cmd: MoveChild, missing: str) -> Child:
    current = await children.lock_child(session, cmd.child_id)
    if current is None or not is_guardian(cmd.guardian_id, await children.active_guardians(session, cmd.child_id)):
        raise NotFound(missing)
    name = None if cmd.clear_name else cmd.name
    if (cmd.clear_name or name is not None) and name != current.name:
        await children.rename_child(session, current.id, name)
        await audit.append(session, _actor(cmd.actor, cmd.guardian_id), "child.renamed", "child", current.id, {})
        current = replace(current, name=name)
    region_code = cmd.region_code or current.region_code
    district_code = cmd.district_code or current.district_code
    if (region_code, district_code) == (current.region_code, current.district_code):
        return current
    region = await region_repository.get_region(session, region_code)
    check_place(current.birth_date, region, district_code, deps.clock.today())
    await children.move_child(session, current.id, region_code, district_code)
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


async def get_own_child(deps: Dependencies, child_id: UUID, guardian_id: UUID) -> Child:
    """One of the caller's children; 404 for anyone else's, the same as for none."""
    async with deps.sessions() as session:
        found = await children.get_child(session, child_id)
        if found is None or not is_guardian(guardian_id, await children.active_guardians(session, child_id)):
            raise NotFound(NO_SUCH_CHILD)
    return found


async def list_own_children(deps: Dependencies, guardian_id: UUID, offset: int, limit: int) -> Page[Child]:
    """The children the caller is a guardian of, oldest registration first."""
    async with deps.sessions() as session:
        items, total = await children.children_page(session, guardian_id, offset, limit)
    return Page(items, total, offset, limit)
