"""People: registration (by code, or at a service point), the caller's record, consents and export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from qosym_chassis.callers import Parent
from registry.domain.model import Person
from registry.entrypoints.dependencies import Deps, Staff, client_address
from registry.entrypoints.schemas import ConfirmRegistrationIn, ConsentIn, PersonOut, RegisterPersonIn, RegistrationOut
from registry.service_layer import people
from registry.service_layer.access import guardian_id

people_router = APIRouter(tags=["people"])


def person_out(person: Person) -> PersonOut:
    return PersonOut(
        id=person.id,
        iin_masked="********" + person.iin_last4,
        birth_date=person.birth_date,
        sex="F" if person.sex == "F" else "M",
        flags=list(person.flags),
    )


@people_router.post(
    "/v1/people",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegistrationOut,
    responses={
        200: {"model": PersonOut, "description": "staff only: the same person again"},
        201: {"model": PersonOut, "description": "staff only: registered"},
        401: {"description": "a bearer token was sent and is invalid"},
        409: {},
        422: {},
        429: {},
    },
)
async def register_person(body: RegisterPersonIn, request: Request, deps: Deps, staff: Staff) -> Any:
    """Register a parent or guardian (an adult) with a phone for one-time codes; the first step before login.

    Anyone: 202 with a registration id, the same answer for every IIN (registered or not); a code goes to the
    phone given, and ``POST /v1/people/confirm`` with it completes the registration. An operator or
    administrator registering someone at a service point gets the person at once (201 new, 200 the same IIN and
    phone again, 409 the IIN is registered with another phone)."""
    command = people.RegisterPerson(
        iin=body.iin,
        phone=body.phone,
        consents={str(purpose): granted for purpose, granted in body.consent.items()},
        declared_birth_date=body.declared_birth_date,
        declared_sex=body.declared_sex,
    )
    if staff is None:
        started = await people.start_registration(deps, command, client_address(request))
        return RegistrationOut(registration_id=started.registration_id, expires_in=started.expires_in)
    result = await people.register_person(deps, command)
    return JSONResponse(
        person_out(result.person).model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
    )


@people_router.post(
    "/v1/people/confirm",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": PersonOut, "description": "the same person again"}, 401: {}, 409: {}},
)
async def confirm_registration(body: ConfirmRegistrationIn, deps: Deps, response: Response) -> PersonOut:
    """Complete a registration with the code sent to its phone: 201 registered, 200 the same IIN and phone again,
    409 the IIN is registered with another phone, 401 a wrong, expired or used code (5 tries)."""
    result = await people.confirm_registration(deps, body.registration_id, body.code)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return person_out(result.person)


@people_router.get("/v1/me", responses={404: {}})
async def me(parent: Parent, deps: Deps) -> PersonOut:
    return person_out(await people.get_person(deps, guardian_id(parent)))


@people_router.post("/v1/me/consents", status_code=status.HTTP_204_NO_CONTENT)
async def record_consent(body: ConsentIn, parent: Parent, deps: Deps) -> None:
    """Grant or withdraw consent for one purpose (kept with its timestamp)."""
    await people.record_consent(deps, guardian_id(parent), body.purpose, body.granted)


@people_router.get("/v1/me/export")
async def export(parent: Parent, deps: Deps) -> people.Export:
    """Everything held about the caller and their children (IINs masked)."""
    return await people.export(deps, guardian_id(parent))
