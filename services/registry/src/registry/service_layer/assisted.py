"""Assisted registration: an operator prepares a change for a parent; it applies only after the parent's code.

The prepared payload (it holds the child's IIN) is sealed with AES-GCM; the audit trail names both the
operator (actor) and the parent (acting_for).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from sqlalchemy import insert, select, update

from qosym_chassis.iin import InvalidIin, parse_iin
from qosym_chassis.protection import IinProtector
from registry.adapters import repository
from registry.adapters.audit import Actor
from registry.adapters.credentials import SecretBox
from registry.adapters.orm import assisted_change
from registry.adapters.sms import SmsSender
from registry.domain.model import OperatorScope, RegistrationRefused, check_place, check_registration
from registry.service_layer import handlers, identity
from registry.service_layer.handlers import NotAllowed, Sessions


async def start_child_registration(
    sessions: Sessions,
    protector: IinProtector,
    box: SecretBox,
    sms: SmsSender,
    operator: Actor,
    scope: OperatorScope,
    parent_iin: str,
    child: handlers.RegisterChild,
    today: date,
    point: str | None = None,
) -> UUID:
    try:
        parent = parse_iin(parent_iin, today=today)
    except InvalidIin as exc:
        raise RegistrationRefused("parent_iin", exc.code, str(exc)) from exc
    try:
        child_iin = parse_iin(child.iin, today=today)
    except InvalidIin as exc:
        raise RegistrationRefused("iin", exc.code, str(exc)) from exc
    if not scope.covers_region(child.region_code):
        raise RegistrationRefused("region_code", "outside_scope", "this operator serves another region")
    if not scope.covers(child.region_code, child.district_code):
        raise RegistrationRefused("district_code", "outside_scope", "this operator serves another district")
    async with sessions() as session:
        person = await repository.find_person_by_index(session, protector.blind_index(parent.value))
        region = await repository.get_region(session, child.region_code)
    if person is None:
        raise RegistrationRefused("parent_iin", "person_not_registered", "the parent must be registered first")
    check_registration(child_iin, region, child.district_code, today)
    approves = (
        f"Give it to the operator at {_where(point)} only to register your child born "
        f"{child_iin.birth_date:%d.%m.%Y} ({_sex(child_iin.sex)}) in {child.district_code}, {child.region_code}."
    )
    challenge_id = await identity.request_code(sessions, protector, box, sms, parent.value, today, approves)
    change_id = uuid4()
    payload = {k: v for k, v in asdict(child).items() if k not in ("actor", "guardian_id")}
    async with sessions() as session, session.begin():
        await session.execute(
            insert(assisted_change).values(
                id=change_id,
                operator=operator.subject,
                person_id=person.id,
                challenge_id=challenge_id,
                kind="register_child",
                sealed_payload=box.seal(json.dumps(payload, default=str).encode(), context=f"assisted:{change_id}"),
            )
        )
    return change_id


async def confirm(
    sessions: Sessions,
    protector: IinProtector,
    box: SecretBox,
    change_id: UUID,
    code: str,
    operator: Actor,
    today: date,
) -> handlers.Registered:
    async with sessions() as session:
        row = (
            (await session.execute(select(assisted_change).where(assisted_change.c.id == change_id))).mappings().first()
        )
    if row is None or row["operator"] != operator.subject or row["applied_at"] is not None:
        raise NotAllowed()
    person_id = await identity.confirm_code(sessions, box, row["challenge_id"], code)
    payload = json.loads(box.open(row["sealed_payload"], context=f"assisted:{change_id}"))
    actor = Actor(operator.subject, operator.role, acting_for=str(person_id))
    if row["kind"] == "move_child":
        moved = await handlers.move_child(
            sessions,
            handlers.MoveChild(
                child_id=UUID(payload["child_id"]),
                guardian_id=person_id,
                region_code=payload["region_code"],
                district_code=payload["district_code"],
                actor=actor,
            ),
            today,
        )
        result = handlers.Registered(moved, created=False)
    else:
        result = await _register(sessions, protector, payload, person_id, actor, today)
    async with sessions() as session, session.begin():
        await session.execute(
            update(assisted_change).where(assisted_change.c.id == change_id).values(applied_at=datetime.now(UTC))
        )
    return result


async def _register(
    sessions: Sessions, protector: IinProtector, payload: dict[str, str], person_id: UUID, actor: Actor, today: date
) -> handlers.Registered:
    declared = payload.get("declared_birth_date")
    command = handlers.RegisterChild(
        guardian_id=person_id,
        iin=payload["iin"],
        region_code=payload["region_code"],
        district_code=payload["district_code"],
        declared_birth_date=date.fromisoformat(declared) if declared else None,
        declared_sex=payload.get("declared_sex"),  # type: ignore[arg-type]
        actor=actor,
    )
    return await handlers.register_child(sessions, protector, command, today)


async def start_child_move(
    sessions: Sessions,
    protector: IinProtector,
    box: SecretBox,
    sms: SmsSender,
    operator: Actor,
    scope: OperatorScope,
    parent_iin: str,
    move: handlers.MoveChild,
    today: date,
    point: str | None = None,
) -> UUID:
    """An operator prepares a family's move for a guardian, who confirms it with a one-time code."""
    try:
        parent = parse_iin(parent_iin, today=today)
    except InvalidIin as exc:
        raise RegistrationRefused("parent_iin", exc.code, str(exc)) from exc
    async with sessions() as session:
        person = await repository.find_person_by_index(session, protector.blind_index(parent.value))
        child = await repository.get_child(session, move.child_id)
        guardians = await repository.active_guardians(session, move.child_id) if child else []
    if (
        child is None
        or person is None
        or person.id not in guardians
        or not scope.covers(child.region_code, child.district_code)
    ):
        raise NotAllowed()
    region_code = move.region_code or child.region_code
    district_code = move.district_code or child.district_code
    async with sessions() as session:
        target = await repository.get_region(session, region_code)
    check_place(child.birth_date, target, district_code, today)  # before a code goes out for a place that is not
    approves = (
        f"Give it to the operator at {_where(point)} only to move your child born {child.birth_date:%d.%m.%Y} "
        f"({_sex(child.sex)}) to {district_code}, {region_code}."
    )
    challenge_id = await identity.request_code(sessions, protector, box, sms, parent.value, today, approves)
    change_id = uuid4()
    payload = {"child_id": str(move.child_id), "region_code": move.region_code, "district_code": move.district_code}
    async with sessions() as session, session.begin():
        await session.execute(
            insert(assisted_change).values(
                id=change_id,
                operator=operator.subject,
                person_id=person.id,
                challenge_id=challenge_id,
                kind="move_child",
                sealed_payload=box.seal(json.dumps(payload).encode(), context=f"assisted:{change_id}"),
            )
        )
    return change_id


def _where(point: str | None) -> str:
    """The operator's consultation point (from the token's scope), shortened for an SMS."""
    return f'"{point[:60]}"' if point else "a consultation point"


def _sex(sex: str) -> str:
    return "girl" if sex == "F" else "boy"
