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

from registry.adapters import repository
from registry.adapters.audit import Actor
from registry.adapters.credentials import SecretBox
from registry.adapters.orm import assisted_change
from registry.adapters.protection import IinProtector
from registry.adapters.sms import SmsSender
from registry.domain.iin import InvalidIin, parse_iin
from registry.domain.model import OperatorScope, RegistrationRefused, check_registration
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
) -> UUID:
    try:
        parent = parse_iin(parent_iin, today=today)
    except InvalidIin as exc:
        raise RegistrationRefused("parent_iin", exc.code, str(exc)) from exc
    child_iin = parse_iin(child.iin, today=today)
    if scope.region and child.region_code != scope.region:
        raise RegistrationRefused("region_code", "outside_scope", "this operator serves another region")
    if scope.district and child.district_code != scope.district:
        raise RegistrationRefused("district_code", "outside_scope", "this operator serves another district")
    async with sessions() as session:
        person = await repository.find_person_by_index(session, protector.blind_index(parent.value))
        region = await repository.get_region(session, child.region_code)
    if person is None:
        raise RegistrationRefused("parent_iin", "person_not_registered", "the parent must be registered first")
    check_registration(child_iin, region, child.district_code, today)
    challenge_id = await identity.request_code(sessions, protector, box, sms, parent.value, today)
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
    declared = payload.get("declared_birth_date")
    command = handlers.RegisterChild(
        guardian_id=person_id,
        iin=payload["iin"],
        region_code=payload["region_code"],
        district_code=payload["district_code"],
        declared_birth_date=date.fromisoformat(declared) if declared else None,
        declared_sex=payload.get("declared_sex"),
        actor=Actor(operator.subject, operator.role, acting_for=str(person_id)),
    )
    result = await handlers.register_child(sessions, protector, command, today)
    async with sessions() as session, session.begin():
        await session.execute(
            update(assisted_change).where(assisted_change.c.id == change_id).values(applied_at=datetime.now(UTC))
        )
    return result
