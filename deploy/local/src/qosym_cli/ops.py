"""Operations against each service's database: outbox replay, dead letters and parked events."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from qosym_chassis import parking
from qosym_chassis.db import make_engine
from qosym_chassis.dead_letters import DeadLetter, list_dead_letters, request_retry
from qosym_chassis.outbox import request_replay
from qosym_chassis.parking import ParkedEvent
from qosym_cli.config import ExternalServers, asyncpg_url, database_url
from qosym_cli.errors import StackError
from qosym_cli.paths import SERVICES
from qosym_cli.state import load_state

T = TypeVar("T")
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``2h``/``30m``/``1d`` ago, or an ISO datetime (UTC when it names no zone)."""
    match = DURATION.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise StackError(f"--since {text!r}: give an ISO datetime or a duration like 2h, 30m, 1d") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def database_urls(home: Path, only: str | None = None) -> dict[str, str]:
    """Each service's database URL: env overrides first, then the local stack's stack.json."""
    if only is not None and only not in SERVICES:
        raise StackError(f"unknown service {only!r}; choose one of: {', '.join(SERVICES)}")
    external = ExternalServers.from_env()
    recorded = load_state(home).database_urls
    urls: dict[str, str] = {}
    for service in SERVICES if only is None else (only,):
        url = external.database_urls.get(service) or recorded.get(service)  # the stack's app-role URL first
        if url is None and external.postgres_server_url:
            url = database_url(external.postgres_server_url, service)
        if url:
            urls[service] = url
    if not urls:
        raise StackError(f"no database known: start the stack (qosym up) or set QOSYM_POSTGRES_URL. Home: {home}")
    return urls


async def for_each_database(
    urls: dict[str, str], action: Callable[[AsyncEngine], Awaitable[T]]
) -> dict[str, T | Exception]:
    results: dict[str, T | Exception] = {}
    for service, url in urls.items():
        engine = make_engine(asyncpg_url(url), application_name="qosym-cli", pool_size=1)
        try:
            results[service] = await action(engine)
        except Exception as error:  # one unreachable database must not hide the others' answers
            results[service] = error
        finally:
            await engine.dispose()
    return results


async def replay(urls: dict[str, str], since: datetime) -> dict[str, int | Exception]:
    return await for_each_database(urls, lambda engine: request_replay(engine, since))


async def dead_letters(urls: dict[str, str]) -> dict[str, list[DeadLetter] | Exception]:
    return await for_each_database(urls, list_dead_letters)


async def retry(urls: dict[str, str], ids: list[int] | None) -> dict[str, int | Exception]:
    return await for_each_database(urls, lambda engine: request_retry(engine, ids))


async def parked(urls: dict[str, str], older_than: timedelta | None) -> dict[str, list[ParkedEvent] | Exception]:
    return await for_each_database(urls, lambda engine: parking.list_parked(engine, older_than=older_than))


async def release_parked(urls: dict[str, str], ids: list[int] | None) -> dict[str, int | Exception]:
    return await for_each_database(urls, lambda engine: parking.request_release(engine, ids))


async def dead_letter_parked(urls: dict[str, str], ids: list[int]) -> dict[str, int | Exception]:
    return await for_each_database(urls, lambda engine: parking.dead_letter(engine, ids))
