"""A database that cannot take a request (no connection slot, the pool exhausted) is a 503 the client may retry,
never a 500: nothing was done."""

from __future__ import annotations

import json

import asyncpg
import pytest
import sqlalchemy.exc

from qosym_chassis.errors import unexpected_error_response

pytestmark = pytest.mark.unit


def raised_from(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise sqlalchemy.exc.DBAPIError("select 1", None, inner) from inner
    except BaseException as outer:
        return outer


@pytest.mark.parametrize(
    "cause",
    [
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        sqlalchemy.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
    ],
)
def test_a_database_that_cannot_take_the_request_is_a_503_with_retry_after(cause):
    response = unexpected_error_response(raised_from(cause), "GET", "/v1/things")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.headers["content-type"] == "application/problem+json"
    assert json.loads(bytes(response.body))["type"] == "unavailable"


def test_any_other_database_error_stays_a_500():
    response = unexpected_error_response(raised_from(asyncpg.exceptions.UndefinedColumnError("x")), "GET", "/v1/x")
    assert response.status_code == 500
