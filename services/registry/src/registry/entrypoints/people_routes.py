"""People, guardianship, categories, review queue and export."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials

from qosym_chassis.auth import Principal, _bearer, current_principal, require_roles
from qosym_chassis.errors import Conflict, FieldError, Forbidden, NotFound, Problem, Unauthorized, problem_response
from qosym_chassis.iin import InvalidIin
from registry.adapters.audit import Actor
from registry.adapters.limits import Limiter, account_key
from registry.adapters.pending import CodeRefused, PendingRegistrations
from registry.domain.model import OperatorScope, RegistrationRefused
from registry.domain.people import EVIDENCE_MAX_BYTES, OTP_MAX_ATTEMPTS, OTP_TTL_S
from registry.entrypoints.routes import Parent, RegistryDep, _child_out, _guardian_id, registered_elsewhere
from registry.entrypoints.schemas import (
    AmendmentIn,
    AssistedChildIn,
    AssistedConfirmIn,
    AssistedMoveIn,
    ChildOut,
    ConfirmRegistrationIn,
    ConsentIn,
    DecisionIn,
    LinkGuardianIn,
    PersonOut,
    RegisterPersonIn,
    RegistrationOut,
)
from registry.service_layer import assisted, categories, handlers, identity, registration

people_router = APIRouter()
Operator = Annotated[Principal, Depends(require_roles("operator"))]
Reviewer = Annotated[Principal, Depends(require_roles("operator", "administrator"))]  # flags: people have no region
EvidenceReader = Annotated[Principal, Depends(require_roles("operator", "parent"))]
NO_SUCH_CHILD = "no such child"


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.subject, principal.role, principal.acting_for)


def scope_of(staff: Principal) -> OperatorScope:
    """An operator's region (and district) from their token; an administrator is unscoped by design."""
    if staff.role == "administrator":
        return OperatorScope(everywhere=True)
    return OperatorScope(region=staff.scope.get("region"), district=staff.scope.get("district"))


def _today() -> Any:
    return datetime.now(UTC).date()


def _person_out(person: Any) -> PersonOut:
    return PersonOut(
        id=person.id,
        iin_masked="********" + person.iin_last4,
        birth_date=person.birth_date,
        sex="F" if person.sex == "F" else "M",
        flags=list(person.flags),
    )


async def optional_staff(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    """An operator's or administrator's verified token, None for anyone else (who then registers by code)."""
    if credentials is None:
        return None
    principal = await current_principal(request, credentials)
    return principal if principal.has_role("operator", "administrator") else None


Staff = Annotated[Principal | None, Depends(optional_staff)]


@people_router.post(
    "/v1/people",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["people"],
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
async def register_person(body: RegisterPersonIn, request: Request, registry: RegistryDep, staff: Staff) -> Any:
    """Register a parent or guardian (an adult) with a phone for one-time codes; the first step before login.

    Anyone: 202 with a registration id, the same answer for every IIN (registered or not); a code goes to the
    phone given, and ``POST /v1/people/confirm`` with it completes the registration. An operator or
    administrator registering someone at a service point gets the person at once (201 new, 200 the same IIN and
    phone again, 409 the IIN is registered with another phone)."""
    if not body.consent.get("data_processing"):
        raise FieldError("consent.data_processing", "consent to data processing is required", code="consent_required")
    command = handlers.RegisterPerson(
        iin=body.iin,
        phone=body.phone,
        consents=dict(body.consent),
        declared_birth_date=body.declared_birth_date,
        declared_sex=body.declared_sex,
    )
    try:
        if staff is None:
            refused = await _registration_refused(registry, request, body)
            if refused is not None:
                return refused
            registration_id = await registration.start(_pending(registry), registry.outgoing_sms, command, _today())
            return RegistrationOut(registration_id=registration_id, expires_in=OTP_TTL_S)
        result = await handlers.register_person(registry.context.session_factory, registry.protector, command, _today())
    except InvalidIin as exc:
        raise FieldError("iin", str(exc), code=exc.code) from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except handlers.AlreadyRegistered as exc:
        raise Conflict(ANOTHER_PHONE) from exc
    return JSONResponse(
        _person_out(result.person).model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
    )


@people_router.post(
    "/v1/people/confirm",
    status_code=status.HTTP_201_CREATED,
    tags=["people"],
    responses={200: {"model": PersonOut, "description": "the same person again"}, 401: {}, 409: {}},
)
async def confirm_registration(body: ConfirmRegistrationIn, registry: RegistryDep, response: Response) -> PersonOut:
    """Complete a registration with the code sent to its phone: 201 registered, 200 the same IIN and phone again,
    409 the IIN is registered with another phone, 401 a wrong, expired or used code (5 tries)."""
    try:
        result = await registration.confirm(
            registry.context.session_factory,
            registry.protector,
            _pending(registry),
            body.registration_id,
            body.code,
            _today(),
        )
    except CodeRefused as exc:
        raise Unauthorized("the code is wrong, expired or already used") from exc
    except handlers.AlreadyRegistered as exc:
        raise Conflict(ANOTHER_PHONE) from exc
    except InvalidIin as exc:
        raise FieldError("iin", str(exc), code=exc.code) from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _person_out(result.person)


ANOTHER_PHONE = "this person is already registered with another phone; an operator can help"


def _pending(registry: Any) -> PendingRegistrations:
    return PendingRegistrations(registry.context.redis, registry.box, OTP_MAX_ATTEMPTS)


async def _registration_refused(registry: Any, request: Request, body: RegisterPersonIn) -> Response | None:
    """Per address, phone and IIN, like code requests (the same settings and window)."""
    settings, limiter = registry.settings, Limiter(registry.context.redis)
    address = request.client.host if request.client else "unknown"
    for key, limit in (
        (f"registry:registration:addr:{address}", settings.otp_requests_per_address),
        (
            account_key("registration:phone", body.phone.replace(" ", "").replace("-", "")),
            settings.otp_requests_per_iin,
        ),
        (account_key("registration:iin", body.iin.strip(" ")), settings.otp_requests_per_iin),
    ):
        wait = await limiter.over(key, limit, settings.otp_rate_window_s)
        if wait is not None:
            refused = problem_response(
                429, "Too many requests", "too many registration attempts; try again later", type_="rate-limited"
            )
            refused.headers["Retry-After"] = str(wait)
            return refused
    return None


@people_router.get("/v1/me", tags=["people"], responses={404: {}})
async def me(parent: Parent, registry: RegistryDep) -> PersonOut:
    person = await handlers.get_person(registry.context.session_factory, _guardian_id(parent))
    if person is None:
        raise NotFound("no person record for this login")
    return _person_out(person)


@people_router.post("/v1/me/consents", status_code=status.HTTP_204_NO_CONTENT, tags=["people"])
async def record_consent(body: ConsentIn, parent: Parent, registry: RegistryDep) -> None:
    """Grant or withdraw consent for one purpose (kept with its timestamp)."""
    try:
        await handlers.record_consent(
            registry.context.session_factory, _guardian_id(parent), body.purpose, body.granted
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no person record for this login") from exc


@people_router.get("/v1/me/export", tags=["people"])
async def export(parent: Parent, registry: RegistryDep) -> dict[str, Any]:
    """Everything held about the caller and their children (IINs masked)."""
    return await handlers.export(registry.context.session_factory, _guardian_id(parent))


# --- guardianship -----------------------------------------------------------------------------------


@people_router.get("/v1/children/{child_id}/guardians", tags=["guardianship"], responses={404: {}})
async def guardians(child_id: UUID, parent: Parent, registry: RegistryDep) -> list[UUID]:
    try:
        return await handlers.guardians_of(registry.context.session_factory, child_id, _guardian_id(parent))
    except handlers.NotAllowed as exc:
        raise NotFound(NO_SUCH_CHILD) from exc


@people_router.post(
    "/v1/children/{child_id}/guardians", status_code=status.HTTP_201_CREATED, tags=["guardianship"], responses={404: {}}
)
async def link_guardian(child_id: UUID, body: LinkGuardianIn, parent: Parent, registry: RegistryDep) -> dict[str, UUID]:
    """Link a second guardian, named by their IIN; they must be a registered adult person."""
    _guardian_id(parent)
    try:
        guardian_id = await handlers.link_guardian(
            registry.context.session_factory,
            registry.protector,
            child_id,
            actor_of(parent),
            body.iin,
            body.relation,
            _today(),
        )
    except InvalidIin as exc:
        raise FieldError("iin", str(exc), code=exc.code) from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except handlers.NotAllowed as exc:
        raise NotFound(NO_SUCH_CHILD) from exc
    return {"guardian_id": guardian_id}


@people_router.delete(
    "/v1/children/{child_id}/guardians/{guardian_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["guardianship"],
    responses={404: {}, 409: {}},
)
async def unlink_guardian(child_id: UUID, guardian_id: UUID, parent: Parent, registry: RegistryDep) -> None:
    _guardian_id(parent)
    try:
        await handlers.unlink_guardian(registry.context.session_factory, child_id, actor_of(parent), guardian_id)
    except handlers.NotAllowed as exc:
        raise NotFound(NO_SUCH_CHILD) from exc
    except handlers.Refused as exc:
        raise Conflict(str(exc)) from exc


# --- categories -------------------------------------------------------------------------------------


@people_router.post(
    "/v1/children/{child_id}/categories",
    status_code=status.HTTP_201_CREATED,
    tags=["categories"],
    responses={404: {}, 409: {}, 413: {}, 422: {}},
    max_body_size=EVIDENCE_MAX_BYTES + 64 * 1024,
)
async def declare_category(
    child_id: UUID,
    parent: Parent,
    registry: RegistryDep,
    code: Annotated[str, Form(min_length=1, max_length=64)],
    file: Annotated[UploadFile, File(description="PDF, JPEG or PNG, at most 5 MiB")],
) -> dict[str, Any]:
    """Declare a priority category for a child, with an evidence document (multipart/form-data)."""
    _guardian_id(parent)
    document = await file.read(EVIDENCE_MAX_BYTES + 1)
    if len(document) > EVIDENCE_MAX_BYTES:
        raise FieldError("file", "evidence is at most 5 MiB", code="evidence_too_large")
    try:
        return await categories.declare(
            registry.context.session_factory, registry.evidence, child_id, actor_of(parent), code, document
        )
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except handlers.NotAllowed as exc:
        raise NotFound(NO_SUCH_CHILD) from exc
    except handlers.Refused as exc:
        raise Conflict(str(exc)) from exc


@people_router.get("/v1/children/{child_id}/categories", tags=["categories"], responses={404: {}})
async def child_categories(child_id: UUID, parent: Parent, registry: RegistryDep) -> list[dict[str, Any]]:
    try:
        return await categories.claims_of(registry.context.session_factory, child_id, _guardian_id(parent))
    except handlers.NotAllowed as exc:
        raise NotFound(NO_SUCH_CHILD) from exc


@people_router.get("/v1/review/categories", tags=["review"])
async def pending_categories(operator: Operator, registry: RegistryDep) -> list[dict[str, Any]]:
    """Declared categories waiting for a decision (only the operator's region and district when the token is scoped)."""
    return await categories.pending(registry.context.session_factory, scope_of(operator))


async def _decide(registry: Any, claim_id: UUID, operator: Principal, body: DecisionIn, verified: bool) -> Any:
    try:
        return await categories.decide(
            registry.context.session_factory,
            claim_id,
            actor_of(operator),
            scope_of(operator),
            verified=verified,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            reason=body.reason,
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such category claim") from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except handlers.Refused as exc:
        raise Conflict(str(exc)) from exc


@people_router.post("/v1/categories/{claim_id}/verify", tags=["review"], responses={404: {}, 409: {}})
async def verify_category(claim_id: UUID, body: DecisionIn, operator: Operator, registry: RegistryDep) -> Any:
    return await _decide(registry, claim_id, operator, body, True)


@people_router.post("/v1/categories/{claim_id}/reject", tags=["review"], responses={404: {}, 409: {}})
async def reject_category(claim_id: UUID, body: DecisionIn, operator: Operator, registry: RegistryDep) -> Any:
    return await _decide(registry, claim_id, operator, body, False)


@people_router.post("/v1/categories/{claim_id}/amend", tags=["review"], responses={404: {}, 409: {}, 422: {}})
async def amend_category(claim_id: UUID, body: AmendmentIn, operator: Operator, registry: RegistryDep) -> Any:
    """Change a verified claim's validity on purpose: both dates explicit (null = the current start / no end), a reason;
    the previous decision stays on the audit trail and the child's verified set is published again."""
    try:
        return await categories.amend(
            registry.context.session_factory,
            claim_id,
            actor_of(operator),
            scope_of(operator),
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            reason=body.reason,
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such category claim") from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except handlers.Refused as exc:
        raise Conflict(str(exc)) from exc


EVIDENCE_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@people_router.get(
    "/v1/categories/{claim_id}/evidence",
    tags=["review"],
    response_class=Response,
    responses={200: {"content": {t: {} for t in EVIDENCE_EXTENSIONS}}, 404: {}},
)
async def open_evidence(claim_id: UUID, who: EvidenceReader, registry: RegistryDep) -> Response:
    """The newest evidence document of a claim, decrypted, as a download: for an operator whose region (and
    district) scope covers the child, or one of the child's guardians; 404 for anyone else. Audited."""
    try:
        found = await categories.open_evidence(
            registry.context.session_factory,
            registry.evidence,
            claim_id,
            actor_of(who),
            scope_of(who) if who.role == "operator" else None,
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such category claim") from exc
    extension = EVIDENCE_EXTENSIONS.get(found.content_type, "bin")
    media_type = found.content_type if found.content_type in EVIDENCE_EXTENSIONS else "application/octet-stream"
    return Response(
        content=found.content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{found.evidence_id}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )


# --- flags ------------------------------------------------------------------------------------------


@people_router.get("/v1/review/flags", tags=["review"])
async def flagged(operator: Reviewer, registry: RegistryDep) -> list[dict[str, Any]]:
    """People and children whose declared data disagrees with their IIN."""
    return await handlers.flagged(registry.context.session_factory, scope_of(operator))


@people_router.post("/v1/review/flags/{entity}/{row_id}/clear", status_code=status.HTTP_204_NO_CONTENT, tags=["review"])
async def clear_flags(entity: str, row_id: UUID, operator: Reviewer, registry: RegistryDep) -> None:
    if entity not in ("child", "person"):
        raise NotFound("no such record")
    try:
        await handlers.clear_flags(
            registry.context.session_factory, entity, row_id, actor_of(operator), scope_of(operator)
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such record") from exc


@people_router.post("/v1/categories/{claim_id}/check", tags=["review"], responses={404: {}, 502: {}})
async def check_category(claim_id: UUID, operator: Operator, registry: RegistryDep) -> Any:
    """Confirm a declared category through the state registry (verifies it when confirmed)."""
    try:
        return await categories.check_with_state_registry(
            registry.context.session_factory,
            registry.protector,
            registry.state_registry,
            claim_id,
            actor_of(operator),
            scope_of(operator),
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such category claim") from exc
    except handlers.Refused as exc:
        raise Conflict(str(exc)) from exc
    except httpx.HTTPError as exc:
        raise BadGateway("the state registry did not answer; try again or verify from the evidence") from exc


class BadGateway(Problem):
    status, title, type = 502, "Bad gateway", "upstream-unavailable"


# --- assisted registration --------------------------------------------------------------------------


@people_router.post("/v1/assisted/children", status_code=status.HTTP_202_ACCEPTED, tags=["assisted"])
async def assisted_child(body: AssistedChildIn, operator: Operator, registry: RegistryDep) -> dict[str, UUID]:
    """An operator registers a child for a parent; a one-time code goes to the parent's phone."""
    command = handlers.RegisterChild(
        guardian_id=UUID(int=0),
        iin=body.iin,
        region_code=body.region_code,
        district_code=body.district_code,
        declared_birth_date=body.declared_birth_date,
        declared_sex=body.declared_sex,
    )
    try:
        change_id = await assisted.start_child_registration(
            registry.context.session_factory,
            registry.protector,
            registry.box,
            registry.sms,
            actor_of(operator),
            scope_of(operator),
            body.parent_iin,
            command,
            _today(),
            operator.scope.get("consultation_point"),
        )
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    return {"change_id": change_id}


@people_router.post("/v1/assisted/{change_id}/confirm", tags=["assisted"], responses={401: {}, 404: {}, 409: {}})
async def assisted_confirm(
    change_id: UUID, body: AssistedConfirmIn, operator: Operator, registry: RegistryDep
) -> ChildOut:
    """Apply the prepared change with the code the parent received (the audit trail names both)."""
    try:
        result = await assisted.confirm(
            registry.context.session_factory,
            registry.protector,
            registry.box,
            change_id,
            body.code,
            actor_of(operator),
            _today(),
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such pending change") from exc
    except identity.LoginFailed as exc:
        raise Unauthorized("the code is wrong, expired or already used") from exc
    except handlers.NotAGuardian as exc:
        raise Forbidden(str(exc)) from exc
    except handlers.AlreadyRegistered as exc:
        raise Conflict("this child is already registered by another guardian") from exc
    except handlers.RegisteredElsewhere as exc:
        raise registered_elsewhere(exc) from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    return _child_out(result.child)


@people_router.post(
    "/v1/assisted/children/{child_id}/move",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["assisted"],
    responses={404: {}, 422: {}},
)
async def assisted_move(
    child_id: UUID, body: AssistedMoveIn, operator: Operator, registry: RegistryDep
) -> dict[str, UUID]:
    """An operator prepares a family's move; a guardian confirms it with the one-time code sent to them."""
    move = handlers.MoveChild(
        child_id=child_id, guardian_id=UUID(int=0), region_code=body.region_code, district_code=body.district_code
    )
    try:
        change_id = await assisted.start_child_move(
            registry.context.session_factory,
            registry.protector,
            registry.box,
            registry.sms,
            actor_of(operator),
            scope_of(operator),
            body.parent_iin,
            move,
            _today(),
            operator.scope.get("consultation_point"),
        )
    except handlers.NotAllowed as exc:
        raise NotFound("no such child among this guardian's children in your area") from exc
    except RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    return {"change_id": change_id}
