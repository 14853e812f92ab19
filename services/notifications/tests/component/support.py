"""Helpers of notifications' component tests: events, database reads, a real SMTP server and SMS gateway."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import uvicorn
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qosym_contracts.allocation import (
    ApplicationSubmittedV1,
    ApplicationWaitlistedV1,
    RoundClosedV1,
    VoucherAssignedV1,
    VoucherAwardedV1,
)
from qosym_contracts.attendance import AttendanceConfirmedV1, AttendanceSubmittedV1
from qosym_contracts.catalog import EnrolmentConfirmedV1, EnrolmentRequestedV1, ProgrammePublishedV1
from qosym_contracts.registry import GuardianshipEstablishedV1


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def rows(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(url)
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def value(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


async def messages(url: str) -> list[dict[str, Any]]:
    found = await rows(
        url, "SELECT audience, person_id, kind, subject_id, payload::text AS payload FROM inbox_message ORDER BY seq"
    )
    for row in found:
        row["payload"] = json.loads(row["payload"])
    return found


async def kinds_for(url: str, audience: str) -> list[str]:
    return [
        r["kind"] for r in await rows(url, "SELECT kind FROM inbox_message WHERE audience = $1 ORDER BY seq", audience)
    ]


# --- events ---------------------------------------------------------------------------------------------


def guardian_of(child_id: UUID, guardian_id: UUID) -> GuardianshipEstablishedV1:
    return GuardianshipEstablishedV1(child_id=child_id, guardian_id=guardian_id)


def submitted(
    child_id: UUID, round_id: UUID | None = None, application_id: UUID | None = None
) -> ApplicationSubmittedV1:
    return ApplicationSubmittedV1(
        application_id=application_id or uuid4(),
        round_id=round_id or uuid4(),
        child_id=child_id,
        region_code="astana",
        district_code="yesil",
        direction="sports",
    )


def waitlisted(application: ApplicationSubmittedV1, position: int) -> ApplicationWaitlistedV1:
    return ApplicationWaitlistedV1(
        application_id=application.application_id,
        round_id=application.round_id,
        child_id=application.child_id,
        position=position,
    )


def round_closed(round_id: UUID) -> RoundClosedV1:
    return RoundClosedV1(round_id=round_id, region_code="astana", seed_hex="ab" * 32, applications=2)


def awarded(
    application: ApplicationSubmittedV1, assign_by: date | None = None, voucher_id: UUID | None = None
) -> VoucherAwardedV1:
    return VoucherAwardedV1(
        voucher_id=voucher_id or uuid4(),
        application_id=application.application_id,
        child_id=application.child_id,
        region_code="astana",
        district_code="yesil",
        round_id=application.round_id,
        direction="sports",
        monthly_value_tiyn=1_500_000,
        months=9,
        valid_until=date.today() + timedelta(days=270),
        assign_by=assign_by,
    )


def assigned(voucher: VoucherAwardedV1, programme_id: UUID, provider_id: UUID) -> VoucherAssignedV1:
    return VoucherAssignedV1(
        voucher_id=voucher.voucher_id,
        enrolment_id=uuid4(),
        child_id=voucher.child_id,
        programme_id=programme_id,
        provider_id=provider_id,
        direction="sports",
        monthly_value_tiyn=voucher.monthly_value_tiyn,
        valid_until=voucher.valid_until,
    )


def programme_published(programme_id: UUID, provider_id: UUID) -> ProgrammePublishedV1:
    return ProgrammePublishedV1(
        programme_id=programme_id,
        provider_id=provider_id,
        direction="sports",
        region_code="astana",
        district_code="yesil",
        age_min=6,
        age_max=12,
        language="kk",
        sessions_per_month=8,
        price_per_month_tiyn=1_400_000,
        capacity=20,
        schedule=[],
        title={"kk": "Жас футболшы", "ru": "Юный футболист", "en": "Young footballer"},
    )


def enrolment_requested(child_id: UUID, programme_id: UUID, provider_id: UUID) -> EnrolmentRequestedV1:
    return EnrolmentRequestedV1(
        enrolment_id=uuid4(),
        child_id=child_id,
        programme_id=programme_id,
        provider_id=provider_id,
        direction="sports",
        region_code="astana",
        district_code="yesil",
        age_min=6,
        age_max=12,
    )


def enrolment_confirmed(request: EnrolmentRequestedV1, voucher_id: UUID) -> EnrolmentConfirmedV1:
    return EnrolmentConfirmedV1(
        enrolment_id=request.enrolment_id,
        child_id=request.child_id,
        programme_id=request.programme_id,
        provider_id=request.provider_id,
        voucher_id=voucher_id,
        direction="sports",
        region_code="astana",
        district_code="yesil",
        price_per_month_tiyn=1_400_000,
        sessions_per_month=8,
    )


def timesheet(child_id: UUID, confirm_by: datetime, timesheet_id: UUID | None = None) -> AttendanceSubmittedV1:
    return AttendanceSubmittedV1(
        timesheet_id=timesheet_id or uuid4(),
        enrolment_id=uuid4(),
        child_id=child_id,
        programme_id=uuid4(),
        provider_id=uuid4(),
        region_code="astana",
        period="2026-11",
        planned_sessions=8,
        district_code="yesil",
        attended_sessions=7,
        sessions=[],
        confirm_by=confirm_by,
    )


def timesheet_confirmed(sheet: AttendanceSubmittedV1) -> AttendanceConfirmedV1:
    return AttendanceConfirmedV1(
        timesheet_id=sheet.timesheet_id,
        enrolment_id=sheet.enrolment_id,
        child_id=sheet.child_id,
        programme_id=sheet.programme_id,
        provider_id=sheet.provider_id,
        region_code=sheet.region_code,
        period=sheet.period,
        planned_sessions=sheet.planned_sessions,
        payable_sessions=7,
        attended_sessions=7,
        basis="guardian_confirmed",
    )


def now() -> datetime:
    return datetime.now(UTC)


# --- a real SMTP server and a real HTTP SMS gateway -------------------------------------------------------


@dataclass
class MailCatcher:
    """aiosmtpd on a free port; every message it accepted, parsed."""

    controller: Controller
    received: list[EmailMessage] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.controller.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[MailCatcher]:
    catcher = MailCatcher(controller=None)  # type: ignore[arg-type]
    controller = Controller(catcher, hostname="127.0.0.1", port=free_port())
    catcher.controller = controller
    controller.start()
    try:
        yield catcher
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmsGateway:
    port: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_next: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()

    async def accept(request: Request) -> JSONResponse:
        if gateway.fail_next:
            gateway.fail_next -= 1
            return JSONResponse({"error": "busy"}, status_code=503)
        gateway.received.append(await request.json())
        gateway.headers.append(dict(request.headers))
        return JSONResponse({"id": str(uuid4())}, status_code=202)

    app = Starlette(routes=[Route("/v1/messages", accept, methods=["POST"])])
    with serving(app) as port:
        gateway.port = port
        yield gateway


@contextmanager
def serving(app: Any) -> Iterator[int]:
    """An ASGI app on a real port in its own thread (and event loop); yields the port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(15)


async def eventually(probe: Any, timeout_s: float = 10.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not reached in {timeout_s} s; last: {result!r}")
        await asyncio.sleep(0.1)
