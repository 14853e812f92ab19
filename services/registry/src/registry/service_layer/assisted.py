"""Assisted registration: an operator prepares a change for a parent; it applies only after the parent's code.

The prepared payload (it holds the child's IIN) is sealed with AES-GCM; the audit trail names both the
operator (actor) and the parent (acting_for).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from uuid import UUID, uuid4

from qosym_chassis.errors import FieldError, NotFound
from qosym_chassis.iin import InvalidIin, parse_iin
from registry.adapters import assisted_repository, people_repository, region_repository
from registry.adapters import children_repository as children
from registry.adapters.assisted_repository import PreparedChange
from registry.adapters.audit import Actor
from registry.domain.errors import RegistrationRefused
from registry.domain.model import OperatorScope, check_place, check_registration
from registry.service_layer import identity
from registry.service_layer.children import MoveChild, RegisterChild, Registered, move_child, register_child
from registry.service_layer.dependencies import Dependencies

NO_PENDING_CHANGE = "no such pending change"
NOT_IN_AREA = "no such child among this guardian's children in your area"


async def start_child_registration(
    deps: Dependencies,
    operator: Actor,
    scope: OperatorScope,
    parent_iin: str,
    child: RegisterChild,
    point: str | None = None,
) -> UUID:
    """An operator registers a child for a parent; a one-time code goes to the parent's phone."""
    today = deps.clock.today()
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
    async with deps.sessions() as session:
        person = await people_repository.find_person_by_index(session, deps.protector.blind_index(parent.value))
        region = await region_repository.get_region(session, child.region_code)
    if person is None:
        raise RegistrationRefused("parent_iin", "person_not_registered", "the parent must be registered first")
    check_registration(child_iin, region, child.district_code, today)
    approves = (
        f"Give it to the operator at {_where(point)} only to register your child born "
        f"{child_iin.birth_date:%d.%m.%Y} ({_sex(child_iin.sex)}) in {child.district_code}, {child.region_code}."
    )
    challenge_id = await identity.send_code(deps, parent.value, approves)
    change_id = uuid4()
    payload = {k: v for k, v in asdict(child).items() if k not in ("actor", "guardian_id")}
    sealed = deps.box.seal(json.dumps(payload, default=str).encode(), context=f"assisted:{change_id}")
    async with deps.sessions() as session, session.begin():
        await assisted_repository.add(
            session,
            PreparedChange(change_id, operator.subject, person.id, challenge_id, "register_child", sealed, None),
        )
    return change_id


async def confirm(deps: Dependencies, change_id: UUID, code: str, operator: Actor) -> Registered:
    """Apply the prepared change with the code the parent received (the audit trail names both)."""
    async with deps.sessions() as session:
        row = await assisted_repository.get(session, change_id)
    if row is None or row.operator != operator.subject or row.applied_at is not None:
        raise NotFound(NO_PENDING_CHANGE)
    try:
        person_id = await identity.check_code(deps, row.challenge_id, code)
    except identity.LoginFailed as exc:  # the operator's form field, not the operator's own authentication
        raise FieldError("code", "the code is wrong, expired or already used", code="code_invalid") from exc
    payload = json.loads(deps.box.open(row.sealed_payload, context=f"assisted:{change_id}"))
    actor = Actor(operator.subject, operator.role, acting_for=str(person_id))
    if row.kind == "move_child":
        move = MoveChild(
            child_id=UUID(payload["child_id"]),
            guardian_id=person_id,
            region_code=payload["region_code"],
            district_code=payload["district_code"],
            actor=actor,
        )
        result = Registered(await move_child(deps, move, missing=NO_PENDING_CHANGE), created=False)
    else:
        declared = payload.get("declared_birth_date")
        command = RegisterChild(
            guardian_id=person_id,
            iin=payload["iin"],
            region_code=payload["region_code"],
            district_code=payload["district_code"],
            declared_birth_date=date.fromisoformat(declared) if declared else None,
            declared_sex=payload.get("declared_sex"),
            actor=actor,
        )
        result = await register_child(deps, command)
    async with deps.sessions() as session, session.begin():
        await assisted_repository.mark_applied(session, change_id, deps.clock.now())
    return result


async def start_child_move(
    deps: Dependencies,
    operator: Actor,
    scope: OperatorScope,
    parent_iin: str,
    move: MoveChild,
    point: str | None = None,
) -> UUID:
    """An operator prepares a family's move for a guardian, who confirms it with a one-time code."""
    today = deps.clock.today()
    try:
        parent = parse_iin(parent_iin, today=today)
    except InvalidIin as exc:
        raise RegistrationRefused("parent_iin", exc.code, str(exc)) from exc
    async with deps.sessions() as session:
        person = await people_repository.find_person_by_index(session, deps.protector.blind_index(parent.value))
        child = await children.get_child(session, move.child_id)
        guardians = await children.active_guardians(session, move.child_id) if child else []
    if (
        child is None
        or person is None
        or person.id not in guardians
        or not scope.covers(child.region_code, child.district_code)
    ):
        raise NotFound(NOT_IN_AREA)
    region_code = move.region_code or child.region_code
    district_code = move.district_code or child.district_code
    async with deps.sessions() as session:
        target = await region_repository.get_region(session, region_code)
    check_place(child.birth_date, target, district_code, today)  # before a code goes out for a place that is not
    approves = (
        f"Give it to the operator at {_where(point)} only to move your child born {child.birth_date:%d.%m.%Y} "
        f"({_sex(child.sex)}) to {district_code}, {region_code}."
    )
    challenge_id = await identity.send_code(deps, parent.value, approves)
    change_id = uuid4()
    payload = {"child_id": str(move.child_id), "region_code": move.region_code, "district_code": move.district_code}
    sealed = deps.box.seal(json.dumps(payload).encode(), context=f"assisted:{change_id}")
    async with deps.sessions() as session, session.begin():
        await assisted_repository.add(
            session, PreparedChange(change_id, operator.subject, person.id, challenge_id, "move_child", sealed, None)
        )
    return change_id


def _where(point: str | None) -> str:
    """The operator's consultation point (from the token's scope), shortened for an SMS."""
    return f'"{point[:60]}"' if point else "a consultation point"


def _sex(sex: str) -> str:
    return "girl" if sex == "F" else "boy"
