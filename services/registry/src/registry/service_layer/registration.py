"""Self-registration that does not tell whether an IIN is registered.

``start`` checks only what the request itself carries (IIN form, adult, phone form), seals the request in a
pending registration and sends a one-time code to the phone given, in the background: the same work and the
same 202 answer for a new IIN and a registered one. ``confirm`` with the code proves the phone and only then
registers (201), finds the same person again (200) or refuses an IIN registered with another phone (409): the
answer about an existing record goes only to someone who holds the phone and paid an SMS round trip for it.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from uuid import UUID, uuid4

from qosym_chassis.iin import parse_iin
from qosym_chassis.protection import IinProtector
from registry.adapters import credentials
from registry.adapters.pending import PendingRegistrations
from registry.adapters.sms import BackgroundSms
from registry.domain.people import OTP_TTL_S, check_adult, check_phone
from registry.service_layer import handlers
from registry.service_layer.handlers import Sessions


async def start(pending: PendingRegistrations, sms: BackgroundSms, cmd: handlers.RegisterPerson, today: date) -> UUID:
    iin = parse_iin(cmd.iin, today=today)
    check_adult(iin, today)
    phone = check_phone(cmd.phone)
    registration_id, code = uuid4(), credentials.new_otp_code()
    details = asdict(cmd) | {
        "iin": iin.value,
        "phone": phone,
        "declared_birth_date": cmd.declared_birth_date.isoformat() if cmd.declared_birth_date else None,
    }
    await pending.put(registration_id, code, details, OTP_TTL_S)
    sms.dispatch(
        person_id=registration_id,  # the gateway's opaque reference: the registration, not yet a person
        phone=phone,
        text=f"Qosym registration code: {code}. It expires in 5 minutes.",
    )
    return registration_id


async def confirm(
    sessions: Sessions,
    protector: IinProtector,
    pending: PendingRegistrations,
    registration_id: UUID,
    code: str,
    today: date,
) -> handlers.PersonRegistered:
    """Raises ``CodeRefused`` for a wrong, expired or used code, ``AlreadyRegistered`` for another phone."""
    details = await pending.take(registration_id, code)
    declared = details.get("declared_birth_date")
    cmd = handlers.RegisterPerson(
        **details | {"declared_birth_date": date.fromisoformat(declared) if declared else None}
    )
    return await handlers.register_person(sessions, protector, cmd, today)
