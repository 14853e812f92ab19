"""People: registering an adult (by code, or at a service point by staff), consents, the data export.

Self-registration does not tell whether an IIN is registered: ``start_registration`` checks only what the request
itself carries (IIN form, adult, phone form), seals the request in a pending registration and sends a one-time
code to the phone given, in the background: the same work and the same 202 answer for a new IIN and a registered
one. ``confirm_registration`` with the code proves the phone and only then registers (201), finds the same person
again (200) or refuses an IIN registered with another phone (409): the answer about an existing record goes only
to someone who holds the phone and paid an SMS round trip for it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from uuid import UUID, uuid4

from qosym_chassis.errors import FieldError, NotFound, Unauthorized, Unavailable
from qosym_chassis.iin import parse_iin
from registry.adapters import audit, category_repository, credentials, people_repository
from registry.adapters import children_repository as children
from registry.adapters.audit import Actor
from registry.adapters.pending import CodeRefused, PendingUnavailable
from registry.domain.errors import AlreadyRegistered
from registry.domain.login_limits import registration_counters
from registry.domain.model import Person
from registry.domain.people import OTP_TTL_S, check_adult, check_phone, declared_mismatches
from registry.service_layer.dependencies import Dependencies
from registry.service_layer.limits import first_over

ANOTHER_PHONE = "this person is already registered with another phone; an operator can help"
NO_PERSON = "no person record for this login"
CODE_REFUSED = "the code is wrong, expired or already used"
REGISTRATION_UNAVAILABLE = "registration is unavailable for a moment; try again shortly"


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


@dataclass(frozen=True)
class RegistrationStarted:
    registration_id: UUID
    expires_in: int


def _check_consent(cmd: RegisterPerson) -> None:
    if not cmd.consents.get("data_processing"):
        raise FieldError("consent.data_processing", "consent to data processing is required", code="consent_required")


async def start_registration(deps: Dependencies, cmd: RegisterPerson, address: str) -> RegistrationStarted:
    """Anyone: a code to the phone given; limited per address, phone and IIN like code requests."""
    _check_consent(cmd)
    await first_over(
        deps,
        registration_counters(deps.limits, cmd.phone, cmd.iin, address),
        "too many registration attempts; try again later",
    )
    today = deps.clock.today()
    iin = parse_iin(cmd.iin, today=today)
    check_adult(iin, today)
    phone = check_phone(cmd.phone)
    registration_id, code = uuid4(), credentials.new_otp_code()
    details = asdict(cmd) | {
        "iin": iin.value,
        "phone": phone,
        "declared_birth_date": cmd.declared_birth_date.isoformat() if cmd.declared_birth_date else None,
    }
    try:
        await deps.pending.put(registration_id, code, details, OTP_TTL_S)
    except PendingUnavailable as exc:  # docs/reliability.md, "Redis down": a 503, never a 500
        raise Unavailable(REGISTRATION_UNAVAILABLE) from exc
    deps.outgoing_sms.dispatch(
        person_id=registration_id,  # the gateway's opaque reference: the registration, not yet a person
        phone=phone,
        text=f"Qosym registration code: {code}. It expires in 5 minutes.",
    )
    return RegistrationStarted(registration_id, OTP_TTL_S)


async def confirm_registration(deps: Dependencies, registration_id: UUID, code: str) -> PersonRegistered:
    """401 for a wrong, expired or used code, 409 for an IIN registered with another phone."""
    try:
        details = await deps.pending.take(registration_id, code)
    except CodeRefused as exc:
        raise Unauthorized(CODE_REFUSED) from exc
    except PendingUnavailable as exc:
        raise Unavailable(REGISTRATION_UNAVAILABLE) from exc
    declared = details.get("declared_birth_date")
    cmd = RegisterPerson(**details | {"declared_birth_date": date.fromisoformat(declared) if declared else None})
    return await _register(deps, cmd)


async def register_person(deps: Dependencies, cmd: RegisterPerson) -> PersonRegistered:
    """Staff at a service point: an adult (a parent or guardian) with a phone on record; the same IIN and phone
    again is the same person."""
    _check_consent(cmd)
    return await _register(deps, cmd)


async def _register(deps: Dependencies, cmd: RegisterPerson) -> PersonRegistered:
    today = deps.clock.today()
    iin = parse_iin(cmd.iin, today=today)
    check_adult(iin, today)
    phone = check_phone(cmd.phone)
    index = deps.protector.blind_index(iin.value)
    async with deps.sessions() as session, session.begin():
        existing = await people_repository.find_person_by_index(session, index)
        if existing is not None:
            if existing.phone != phone:
                raise AlreadyRegistered(ANOTHER_PHONE)
            return PersonRegistered(existing, created=False)
        flags = declared_mismatches(iin, cmd.declared_birth_date, cmd.declared_sex)
        new = Person(uuid4(), iin.birth_date, iin.sex, iin.value[-4:], phone, tuple(flags))
        ciphertext = deps.protector.encrypt(iin.value, row_id=str(new.id))
        if not await people_repository.insert_person(session, new, iin_index=index, iin_ciphertext=ciphertext):
            raise AlreadyRegistered(ANOTHER_PHONE)
        for purpose, granted in sorted(cmd.consents.items()):
            await people_repository.add_consent(session, new.id, purpose, granted)
        actor = Actor(str(new.id), "parent")
        await audit.append(session, actor, "person.registered", "person", new.id, {"flags": flags})
        if cmd.consents:
            await audit.append(session, actor, "consent.recorded", "person", new.id, {"consents": cmd.consents})
    return PersonRegistered(new, True)


async def get_person(deps: Dependencies, person_id: UUID) -> Person:
    async with deps.sessions() as session:
        found = await people_repository.get_person(session, person_id)
    if found is None:
        raise NotFound(NO_PERSON)
    return found


async def record_consent(deps: Dependencies, person_id: UUID, purpose: str, granted: bool) -> None:
    async with deps.sessions() as session, session.begin():
        if await people_repository.get_person(session, person_id) is None:
            raise NotFound(NO_PERSON)
        await people_repository.add_consent(session, person_id, purpose, granted)
        await audit.append(
            session, Actor(str(person_id), "parent"), "consent.recorded", "person", person_id, {purpose: granted}
        )


@dataclass(frozen=True)
class ExportedPerson:
    id: UUID
    iin_masked: str
    birth_date: date
    sex: str
    phone: str | None
    flags: list[str]


@dataclass(frozen=True)
class ExportedConsent:
    purpose: str
    granted: bool
    recorded_at: datetime


@dataclass(frozen=True)
class ExportedCategory:
    id: UUID
    code: str
    status: str
    valid_from: date | None
    valid_until: date | None
    reason: str | None


@dataclass(frozen=True)
class ExportedChild:
    id: UUID
    iin_masked: str
    birth_date: date
    sex: str
    region_code: str
    district_code: str
    guardians: list[UUID]
    categories: list[ExportedCategory]


@dataclass(frozen=True)
class Export:
    person: ExportedPerson | None
    consents: list[ExportedConsent]
    children: list[ExportedChild]


async def export(deps: Dependencies, person_id: UUID) -> Export:
    """Everything held about the caller and their children (IINs masked)."""
    async with deps.sessions() as session:
        me = await people_repository.get_person(session, person_id)
        kids = await children.children_of(session, person_id)
        claims = await category_repository.claims_of_children(session, [k.id for k in kids])
        consents = await people_repository.consents_of(session, person_id)
        exported = [
            ExportedChild(
                id=k.id,
                iin_masked="********" + k.iin_last4,
                birth_date=k.birth_date,
                sex=k.sex,
                region_code=k.region_code,
                district_code=k.district_code,
                guardians=await children.active_guardians(session, k.id),
                categories=[
                    ExportedCategory(c.id, c.code, c.status, c.valid_from, c.valid_until, c.reason)
                    for c in claims
                    if c.child_id == k.id
                ],
            )
            for k in kids
        ]
    return Export(
        person=None
        if me is None
        else ExportedPerson(me.id, "********" + me.iin_last4, me.birth_date, me.sex, me.phone, list(me.flags)),
        consents=[ExportedConsent(p, g, at) for p, g, at in consents],
        children=exported,
    )
