"""What a route receives: the bootstrapped dependencies, the caller as an inbox reader."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request

from notifications.bootstrap import Notifications
from notifications.domain.messages import audiences_of
from notifications.service_layer.dependencies import Dependencies
from notifications.service_layer.inbox import Reader
from qosym_chassis.auth import Principal
from qosym_chassis.callers import OFFICIALS, PARENTS, PROVIDER_STAFF, needs, roles
from qosym_chassis.errors import FieldError

INBOX_READERS = roles(PARENTS, PROVIDER_STAFF, OFFICIALS)
"""Everyone with an inbox: parents, a provider's staff, a region's operators and the administrators."""


def get_notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


def get_deps(request: Request) -> Dependencies:
    return get_notifications(request).deps


Deps = Annotated[Dependencies, Depends(get_deps)]
InboxReader = Annotated[Principal, needs(PARENTS, PROVIDER_STAFF, OFFICIALS)]
AcceptLanguage = Annotated[str | None, Header(alias="Accept-Language", include_in_schema=False)]


def reader_of(principal: Principal, accept_language: str | None = None) -> Reader:
    try:
        person_id = UUID(principal.subject)
    except ValueError as exc:
        raise FieldError("Authorization", "the token's subject (sub) is not a person or staff id (a UUID)") from exc
    return Reader(person_id, audiences_of(principal.role, person_id, principal.scope), accept_language)
