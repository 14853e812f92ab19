"""Guardians confirm or dispute a submitted month; operators resolve disputes; deadlines close the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters import (
    dispute_repository,
    region_repository,
    timesheet_queries,
    timesheet_repository,
)
from attendance.adapters.pages import page_of
from attendance.domain.period import zone
from attendance.domain.rules import payable_sessions, planned_sessions
from attendance.domain.timesheets import (
    DISPUTED,
    RESOLVED,
    SUBMITTED,
    Claim,
    Ruling,
    outcome_of,
    status_after_ruling,
    tally,
)
from attendance.service_layer.access import Caller
from attendance.service_layer.dependencies import Dependencies
from attendance.service_layer.timesheets import region_timezone, visible_timesheet
from attendance.service_layer.views import ConfirmOut, DisputeOpenedOut, DisputeOut, ResolvedOut
from qosym_chassis import outbox
from qosym_chassis.errors import Conflict, FieldError, NotFound
from qosym_chassis.inputs import OffsetPage
from qosym_contracts.attendance import AttendanceDisputedV1, DisputeResolvedV1

MAX_BULK_CONFIRM = 1000


@dataclass(frozen=True)
class SessionRef:
    day: date
    start: time | None


@dataclass(frozen=True)
class DisputedIn:
    session: SessionRef
    claim: Claim
    comment: str | None = None


@dataclass(frozen=True)
class RulingIn:
    session: SessionRef
    ruling: Ruling


def _window_open(row: dict[str, Any], now: datetime) -> None:
    if row["status"] != SUBMITTED:
        raise Conflict(f"this month is {row['status']}, not awaiting a guardian's answer")
    if row["confirm_by"] <= now:
        raise Conflict(f"the window to confirm or dispute closed at {row['confirm_by'].isoformat()}")


async def confirm(deps: Dependencies, caller: Caller, timesheet_ids: list[UUID]) -> ConfirmOut:
    """A guardian confirms one or several of their children's months at once (all or nothing)."""
    now = deps.clock.now()
    if not timesheet_ids:
        raise FieldError("timesheet_ids", "name at least one timesheet")
    unique = list(dict.fromkeys(timesheet_ids))
    async with deps.sessions() as session, session.begin():
        for timesheet_id in sorted(unique):  # a fixed lock order: two bulk confirmations never deadlock
            row = await visible_timesheet(session, caller, timesheet_id, lock=True)
            if caller.role != "parent":
                raise NotFound("no such timesheet")
            _window_open(row, now)
        confirmed = await timesheet_repository.confirm_by_guardian(session, unique, now, caller.actor)
        if len(confirmed) != len(unique):  # a row changed under the lock: should not happen, never half-apply
            raise Conflict("some of these months changed meanwhile; read them again")
        return ConfirmOut(confirmed=confirmed)


def _find_mark(marks: dict[datetime, dict[str, Any]], ref: SessionRef, tz: str, where: str) -> dict[str, Any]:
    local = zone(tz)
    found = [
        m
        for m in marks.values()
        if m["session_date"] == ref.day and (ref.start is None or m["starts_at"].astimezone(local).time() == ref.start)
    ]
    if not found:
        raise FieldError(f"{where}.date", "no marked session of this month on that day (and time)")
    if len(found) > 1:
        raise FieldError(f"{where}.starts_at", "several sessions that day: say which")
    return found[0]


async def _marks(session: AsyncSession, timesheet_id: UUID) -> dict[datetime, dict[str, Any]]:
    return {m["starts_at"]: m for m in await timesheet_repository.marks_of(session, [timesheet_id])}


def _event_fields(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "timesheet_id": row["id"],
        "enrolment_id": row["enrolment_id"],
        "child_id": row["child_id"],
        "programme_id": row["programme_id"],
        "provider_id": row["provider_id"],
        "region_code": row["region_code"],
        "period": row["period"],
        "planned_sessions": row["planned_sessions"],
    }


async def dispute_month(
    deps: Dependencies, caller: Caller, timesheet_id: UUID, comment: str, items: list[DisputedIn]
) -> DisputeOpenedOut:
    """A guardian disputes sessions of a submitted month; nothing of it is payable until an operator decides."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        row = await visible_timesheet(session, caller, timesheet_id, lock=True)
        if caller.role != "parent":
            raise NotFound("no such timesheet")
        _window_open(row, now)
        tz = await region_timezone(session, row["region_code"])
        marks = await _marks(session, timesheet_id)
        chosen: dict[datetime, tuple[dict[str, Any], DisputedIn]] = {}
        for i, item in enumerate(items):
            mark = _find_mark(marks, item.session, tz, f"sessions[{i}]")
            if status_after_ruling(mark["status"], item.claim, "guardian_upheld") == mark["status"]:
                raise FieldError(f"sessions[{i}].claim", "that is what the provider marked")
            if mark["starts_at"] in chosen:
                raise FieldError(f"sessions[{i}].date", "this session is already disputed above")
            chosen[mark["starts_at"]] = (mark, item)
        dispute_id = uuid4()
        await dispute_repository.open_dispute(
            session,
            {
                "id": dispute_id,
                "timesheet_id": timesheet_id,
                "region_code": row["region_code"],
                "district_code": row["district_code"],
                "opened_by": caller.actor,
                "opened_at": now,
                "comment": comment,
            },
            [
                {"starts_at": starts_at, "marked_status": mark["status"], "claim": item.claim, "comment": item.comment}
                for starts_at, (mark, item) in chosen.items()
            ],
        )
        await timesheet_repository.update_month(
            session, timesheet_id, status=DISPUTED, decided_at=now, decided_by=caller.actor
        )
        await timesheet_repository.add_decision(
            session,
            timesheet_id,
            "disputed",
            caller.actor,
            now,
            {"dispute_id": str(dispute_id), "sessions": len(chosen)},
        )
        await outbox.add_event(
            session,
            AttendanceDisputedV1(
                **_event_fields(row), occurred_at=now, dispute_id=dispute_id, disputed_sessions=len(chosen)
            ),
        )
        return DisputeOpenedOut(dispute_id=dispute_id, timesheet_id=timesheet_id, disputed_sessions=len(chosen))


async def resolve(
    deps: Dependencies, caller: Caller, dispute_id: UUID, rulings: list[RulingIn], comment: str
) -> ResolvedOut:
    """An operator of the region rules on every disputed session; the sessions that count are then payable."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        opened = await dispute_repository.get(session, dispute_id, lock=True)
        if opened is None or not caller.may_decide_for(opened["region_code"], opened["district_code"]):
            raise NotFound("no such dispute")
        if opened["status"] != "open":
            raise Conflict("this dispute is already resolved")
        row = await timesheet_repository.get(session, opened["timesheet_id"], lock=True)
        if row is None:  # a dispute's timesheet is never deleted (a foreign key)
            raise NotFound("no such timesheet")
        tz = await region_timezone(session, row["region_code"])
        marks = await _marks(session, row["id"])
        contested = {d["starts_at"]: d for d in await dispute_repository.sessions_of(session, dispute_id)}
        decided: dict[datetime, Ruling] = {}
        for i, item in enumerate(rulings):
            mark = _find_mark(marks, item.session, tz, f"rulings[{i}]")
            if mark["starts_at"] not in contested:
                raise FieldError(f"rulings[{i}].date", "this session is not disputed")
            decided[mark["starts_at"]] = item.ruling
        missing = sorted(set(contested) - set(decided))
        if missing:
            days = ", ".join(m.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M") for m in missing)
            raise FieldError("rulings", f"rule on every disputed session; missing: {days}")
        for starts_at, ruling in decided.items():
            d = contested[starts_at]
            new_status = status_after_ruling(d["marked_status"], d["claim"], ruling)
            await dispute_repository.rule(session, dispute_id, starts_at, ruling)
            if new_status != marks[starts_at]["status"]:
                await timesheet_repository.set_mark_status(session, row["id"], starts_at, new_status, caller.actor, now)
                marks[starts_at]["status"] = new_status
        rules = await region_repository.rules_at(session, row["region_code"], row["rules_revision"])
        counts = tally(row["scheduled_sessions"], row["span_sessions"], (m["status"] for m in marks.values()))
        planned, payable = planned_sessions(counts, rules), payable_sessions(counts, rules)
        outcome = outcome_of(decided.values())
        await timesheet_repository.update_month(
            session,
            row["id"],
            status=RESOLVED,
            basis="dispute_resolved",
            planned_sessions=planned,
            payable_sessions=payable,
            attended_sessions=counts.attended,
            absent_sessions=counts.absent,
            cancelled_sessions=counts.cancelled,
            decided_at=now,
            decided_by=caller.actor,
        )
        await dispute_repository.close(
            session, dispute_id, outcome=outcome, resolved_by=caller.actor, resolved_at=now, resolution_comment=comment
        )
        await timesheet_repository.add_decision(
            session,
            row["id"],
            "dispute_resolved",
            caller.actor,
            now,
            {"dispute_id": str(dispute_id), "outcome": outcome, "payable_sessions": payable},
        )
        await outbox.add_event(
            session,
            DisputeResolvedV1(
                **{**_event_fields(row), "planned_sessions": planned},
                occurred_at=now,
                dispute_id=dispute_id,
                payable_sessions=payable,
                attended_sessions=counts.attended,
                outcome=outcome,
            ),
        )
        return ResolvedOut(
            dispute_id=dispute_id,
            timesheet_id=row["id"],
            outcome=outcome,
            planned_sessions=planned,
            payable_sessions=payable,
        )


async def list_disputes(deps: Dependencies, caller: Caller, status: str | None) -> OffsetPage[DisputeOut]:
    """Disputes the caller may decide: an operator's region (their district's, when their token names one)."""
    region_code = district_code = None
    if caller.role == "operator":
        region_code, district_code = caller.operator_region, caller.district
    query = timesheet_queries.disputes(region_code=region_code, district_code=district_code, status=status)
    async with deps.sessions() as session:
        return await page_of(session, query, DisputeOut)


async def close_windows(
    deps: Dependencies, now: datetime | None = None, region_code: str | None = None
) -> dict[str, int]:
    """At each confirmation deadline: months nobody answered are deemed confirmed or lapse, by the region's rule."""
    now = now or deps.clock.now()
    async with deps.sessions() as session, session.begin():
        deemed = await timesheet_repository.deem_confirmed(session, now, region_code)
        lapsed = await timesheet_repository.lapse_unanswered(session, now, region_code)
    return {"deemed_confirmed": deemed, "lapsed": lapsed}
