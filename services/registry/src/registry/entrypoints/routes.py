"""Registry HTTP routes: thin translations into use cases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request, Response, status

from qosym_chassis.auth import Principal, require_roles
from qosym_chassis.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable
from qosym_chassis.idempotency import NOT_STORED
from qosym_chassis.iin import InvalidIin
from registry.bootstrap import Registry
from registry.domain.model import Child
from registry.entrypoints.schemas import ChildOut, DevTokenIn, MoveChildIn, RegisterChildIn, TokenOut
from registry.service_layer import handlers

router = APIRouter()


def get_registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


RegistryDep = Annotated[Registry, Depends(get_registry)]
Parent = Annotated[Principal, Depends(require_roles("parent"))]


def _child_out(child: Child) -> ChildOut:
    return ChildOut(
        id=child.id,
        iin_masked="********" + child.iin_last4,
        birth_date=child.birth_date,
        sex="F" if child.sex == "F" else "M",
        region_code=child.region_code,
        district_code=child.district_code,
        flags=list(child.flags),
    )


def registered_elsewhere(exc: handlers.RegisteredElsewhere) -> Conflict:
    place = "region" if exc.field == "region_code" else "district"
    message = (
        f"this child is already registered in another {place}; "
        f"if the family moved, change it with PATCH /v1/children/{exc.child_id}"
    )
    return Conflict(message, errors=[{"field": exc.field, "message": message, "type": "registered_elsewhere"}])


def _guardian_id(principal: Principal) -> UUID:
    try:
        return UUID(principal.subject)
    except ValueError as exc:
        raise Unprocessable("the token's subject is not a person id") from exc


@router.post(
    "/v1/children",
    status_code=status.HTTP_201_CREATED,
    tags=["children"],
    responses={200: {"description": "already registered by you: the same child"}, 403: {}, 409: {}, 422: {}},
)
async def register_child(body: RegisterChildIn, parent: Parent, registry: RegistryDep, response: Response) -> ChildOut:
    """Register a child of the calling guardian, a registered adult person (idempotent for the same guardian and IIN)."""
    command = handlers.RegisterChild(
        guardian_id=_guardian_id(parent),
        iin=body.iin,
        region_code=body.region_code,
        district_code=body.district_code,
        declared_birth_date=body.declared_birth_date,
        declared_sex=body.declared_sex,
    )
    try:
        result = await handlers.register_child(
            registry.context.session_factory, registry.protector, command, datetime.now(UTC).date()
        )
    except InvalidIin as exc:
        raise FieldError("iin", str(exc), code=exc.code) from exc
    except handlers.RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    except handlers.NotAGuardian as exc:
        raise Forbidden(str(exc)) from exc
    except handlers.AlreadyRegistered as exc:
        raise Conflict("this child is already registered by another guardian") from exc
    except handlers.RegisteredElsewhere as exc:
        raise registered_elsewhere(exc) from exc
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _child_out(result.child)


@router.get("/v1/children", tags=["children"])
async def list_children(parent: Parent, registry: RegistryDep) -> list[ChildOut]:
    """The children the caller is a guardian of."""
    children = await handlers.list_own_children(registry.context.session_factory, _guardian_id(parent))
    return [_child_out(c) for c in children]


@router.get("/v1/children/{child_id}", tags=["children"], responses={404: {}})
async def get_child(child_id: UUID, parent: Parent, registry: RegistryDep) -> ChildOut:
    """One of the caller's children (404 for anyone else's, the same as for none)."""
    child = await handlers.get_own_child(registry.context.session_factory, child_id, _guardian_id(parent))
    if child is None:
        raise NotFound("no such child")
    return _child_out(child)


@router.patch("/v1/children/{child_id}", tags=["children"], responses={404: {}, 422: {}})
async def move_child(child_id: UUID, body: MoveChildIn, parent: Parent, registry: RegistryDep) -> ChildOut:
    """The family moved: change the child's region and/or district (publishes ChildDetailsChanged)."""
    command = handlers.MoveChild(
        child_id=child_id,
        guardian_id=_guardian_id(parent),
        region_code=body.region_code,
        district_code=body.district_code,
    )
    try:
        moved = await handlers.move_child(registry.context.session_factory, command, datetime.now(UTC).date())
    except handlers.NotAllowed as exc:
        raise NotFound("no such child") from exc
    except handlers.RegistrationRefused as exc:
        raise FieldError(exc.field, str(exc), code=exc.code) from exc
    return _child_out(moved)


@router.get("/.well-known/jwks.json", tags=["identity"])
async def jwks(registry: RegistryDep) -> dict[str, Any]:
    """The public keys that verify the registry's tokens."""
    return registry.tokens.jwks()


dev_router = APIRouter(tags=["development"])


@dev_router.post("/v1/dev/tokens", status_code=status.HTTP_201_CREATED, openapi_extra=NOT_STORED)
async def dev_token(body: DevTokenIn, registry: RegistryDep) -> TokenOut:
    """Development only (QOSYM_DEV_MODE): a token for any role, to try the APIs from /docs."""
    subject = str(body.subject or uuid4())
    if body.role == "operator" and not body.scope.get("region"):
        raise FieldError("scope.region", "an operator serves one region: name it", code="missing")
    token = registry.tokens.issue(subject=subject, role=body.role, scope=body.scope)
    return TokenOut(access_token=token, expires_in=registry.settings.access_token_ttl_s, subject=subject)
