"""One place where the domain's rule failures become the chassis's error types (docs/architecture.md, "Layers").

A use case decorated with :func:`use_case` raises only ``qosym_chassis.errors`` types: a refused value becomes
a ``FieldError`` naming the field, a refused state change a ``Conflict``, a caller who cannot be a guardian
``Forbidden``. Routes translate nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from qosym_chassis.errors import Conflict, FieldError, Forbidden, Problem
from qosym_chassis.iin import InvalidIin
from registry.domain.errors import NotAGuardian, Refused, RegisteredElsewhere, RegistrationRefused

P = ParamSpec("P")
R = TypeVar("R")


class UpstreamUnavailable(Problem):
    """An external system the use case depends on (the state registry) did not answer."""

    status, title, type = 502, "Bad gateway", "upstream-unavailable"


def use_case(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @wraps(function)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await function(*args, **kwargs)
        except InvalidIin as exc:
            raise FieldError("iin", str(exc), code=exc.code) from exc
        except RegistrationRefused as exc:
            raise FieldError(exc.field, str(exc), code=exc.code) from exc
        except RegisteredElsewhere as exc:
            message = str(exc)
            raise Conflict(
                message, errors=[{"field": exc.field, "message": message, "type": "registered_elsewhere"}]
            ) from exc
        except Refused as exc:
            raise Conflict(str(exc)) from exc
        except NotAGuardian as exc:
            raise Forbidden(str(exc)) from exc

    return run
