"""Providers mark a group's month and submit it; operators allow late submission; everyone reads what is theirs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from attendance.adapters import (
    dispute_repository,
    guardian_repository,
    programme_repository,
    region_repository,
    timesheet_queries,
    timesheet_repository,
)
from attendance.adapters.pages import page_of
from attendance.domain.period import Period, local_date, local_instant, month_days, period_named, zone
from attendance.domain.rules import AttendanceRules
from attendance.domain.schedule import Session, Slot, in_span, scheduled_sessions, typical_length
from attendance.domain.timesheets import DRAFT, MarkStatus
from attendance.service_layer.access import READERS, Caller
from attendance.service_layer.dependencies import Dependencies
from attendance.service_layer.views import (
    LatePermitOut,
    MarkOut,
    PayableOut,
    SessionOut,
    SheetOut,
    SubmitOut,
    TimesheetDetailOut,
    TimesheetOut,
)
from qosym_chassis.errors import Conflict, FieldError, Forbidden, NotFound
from qosym_chassis.inputs import OffsetPage

INCOMPLETE_LISTED = 1000


@dataclass(frozen=True)
class MarkIn:
    enrolment_id: UUID
    day: date
    start: time | None
    status: MarkStatus
    reason: str | None = None


@dataclass
class Group:
    """One programme in one period: its schedule, the region's rules, the children enrolled in that month."""

    programme: dict[str, Any]
    tz: str
    period: Period
    rules_revision: int
    rules: AttendanceRules
    closures: dict[date, str]
    sessions: list[Session]
    enrolments: dict[UUID, dict[str, Any]] = field(default_factory=dict)

    def span(self, row: dict[str, Any]) -> tuple[date, date | None]:
        ended = row["ended_at"]
        return local_date(row["starts_at"], self.tz), local_date(ended, self.tz) if ended else None


def parse_period(name: str, tz: str) -> Period:
    try:
        return period_named(name, tz)
    except ValueError as exc:
        raise FieldError("period", str(exc)) from exc


async def region_timezone(session: AsyncSession, code: str) -> str:
    """The region's time zone (409 while its RegionConfigured has not reached attendance)."""
    clock = await region_repository.get_region(session, code)
    if clock is None:
        raise Conflict(f"the region {code} has not reached attendance yet; try again shortly")
    return clock.timezone


async def load_group(
    session: AsyncSession, caller: Caller, programme_id: UUID, period_name: str, *, manage: bool
) -> Group:
    """The group, if the caller may see it (manage: only the provider's own staff)."""
    found = await programme_repository.get_programme(session, programme_id)
    if found is None:
        raise NotFound("no such programme")
    if manage:
        allowed = caller.owns_provider(found["provider_id"])
    else:
        allowed = caller.owns_provider(found["provider_id"]) or caller.oversees(
            found["region_code"], found["district_code"]
        )
    if not allowed:
        raise NotFound("no such programme")
    tz = await region_timezone(session, found["region_code"])
    period = parse_period(period_name, tz)
    revision, rules, _ = await region_repository.current_rules(session, found["region_code"])
    closures = rules.closures_in(period.name)
    slots = [Slot.parse(s) for s in found["schedule"]]
    group = Group(
        programme=found,
        tz=tz,
        period=period,
        rules_revision=revision,
        rules=rules,
        closures=closures,
        sessions=scheduled_sessions(period.name, slots, tz, closures, include_closures=True),
    )
    group.enrolments = await programme_repository.enrolments_between(
        session, programme_id, period.starts_at, period.ends_at
    )
    return group


async def mark(
    deps: Dependencies,
    caller: Caller,
    programme_id: UUID,
    period_name: str,
    marks: list[MarkIn],
    all_scheduled: MarkStatus | None,
) -> SheetOut:
    """Mark sessions of a whole group at once: every past scheduled session with ``all_scheduled``, then ``marks``."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        group = await load_group(session, caller, programme_id, period_name, manage=True)
        if group.period.starts_at > now:
            raise FieldError("period", "this month has not begun")
        await programme_repository.lock_programmes(session, [programme_id])
        await timesheet_repository.ensure_drafts(session, [programme_id], group.period, now)
        sheets = await timesheet_repository.of_programme(session, programme_id, group.period.name)
        rows: dict[tuple[UUID, datetime], dict[str, Any]] = {}

        def put(sheet: dict[str, Any], s_at: datetime, e_at: datetime, day: date, **values: Any) -> None:
            rows[(sheet["id"], s_at)] = {
                "timesheet_id": sheet["id"],
                "starts_at": s_at,
                "ends_at": e_at,
                "session_date": day,
                "marked_by": caller.actor,
                "marked_at": now,
                **values,
            }

        if all_scheduled is not None:
            for enrolment_id, row in group.enrolments.items():
                sheet = sheets[enrolment_id]
                if sheet["status"] != DRAFT:
                    continue
                first, last = group.span(row)
                for s in group.sessions:
                    if s.closure is None and in_span(s, first, last) and s.starts_at <= now:
                        put(
                            sheet,
                            s.starts_at,
                            s.ends_at,
                            s.day,
                            status=all_scheduled,
                            scheduled=True,
                            closure_day=False,
                            reason=None,
                        )
        for i, m in enumerate(marks):
            where = f"marks[{i}]"
            enrolled = group.enrolments.get(m.enrolment_id)
            if enrolled is None:
                raise FieldError(f"{where}.enrolment_id", "not a child of this group in this month")
            if m.day.strftime("%Y-%m") != group.period.name:
                raise FieldError(f"{where}.date", f"not a day of {group.period.name}")
            first, last = group.span(enrolled)
            if m.day < first or (last is not None and m.day > last):
                raise FieldError(f"{where}.date", "the child was not enrolled on this day")
            matching = [s for s in group.sessions if s.day == m.day and (m.start is None or s.start == m.start)]
            if len(matching) > 1:
                raise FieldError(f"{where}.starts_at", "the schedule has several sessions that day: say which")
            if matching:
                s = matching[0]
                s_at, e_at, scheduled, closure = s.starts_at, s.ends_at, True, s.closure
            else:
                if m.start is None:
                    raise FieldError(f"{where}.starts_at", "no session is scheduled that day: give the start time")
                s_at = local_instant(m.day, m.start, group.tz)
                e_at = s_at + typical_length([Slot.parse(x) for x in group.programme["schedule"]])
                scheduled, closure = False, group.closures.get(m.day)
            if closure is not None and not m.reason:
                raise FieldError(f"{where}.reason", f"{m.day} is a closure day ({closure}): give a reason")
            if not scheduled and not m.reason:
                raise FieldError(f"{where}.reason", "a session outside the schedule needs a reason")
            if s_at > now:
                raise FieldError(f"{where}.date", "a session that has not started yet cannot be marked")
            sheet = sheets[m.enrolment_id]
            if sheet["status"] != DRAFT:
                raise Conflict(f"the month of enrolment {m.enrolment_id} is already {sheet['status']}")
            put(
                sheet,
                s_at,
                e_at,
                m.day,
                status=m.status,
                scheduled=scheduled,
                closure_day=closure is not None,
                reason=m.reason,
            )
        if rows:
            await timesheet_repository.put_marks(session, list(rows.values()))
        return await _sheet(session, group)


async def sheet(deps: Dependencies, caller: Caller, programme_id: UUID, period_name: str) -> SheetOut:
    async with deps.sessions() as session:
        group = await load_group(session, caller, programme_id, period_name, manage=False)
        return await _sheet(session, group)


async def _sheet(session: AsyncSession, group: Group) -> SheetOut:
    sheets = await timesheet_repository.of_programme(session, group.programme["id"], group.period.name)
    ids = [s["id"] for s in sheets.values()]
    marks: dict[UUID, dict[datetime, dict[str, Any]]] = {}
    if ids:
        for m in await timesheet_repository.marks_of(session, ids):
            marks.setdefault(m["timesheet_id"], {})[m["starts_at"]] = m
    children = []
    for enrolment_id, row in group.enrolments.items():
        first, last = group.span(row)
        current = sheets.get(enrolment_id)
        own = marks.get(current["id"], {}) if current else {}
        expected = [s for s in group.sessions if s.closure is None and in_span(s, first, last)]
        children.append(
            {
                "enrolment_id": enrolment_id,
                "child_id": row["child_id"],
                "timesheet_id": current["id"] if current else None,
                "status": current["status"] if current else DRAFT,
                "first_day": first,
                "last_day": last,
                "marks": [_mark_out(m, group.tz) for m in sorted(own.values(), key=lambda m: m["starts_at"])],
                "unmarked": [_session_out(s, group.tz) for s in expected if s.starts_at not in own],
            }
        )
    return SheetOut.model_validate(
        {
            "programme_id": group.programme["id"],
            "period": group.period.name,
            "timezone": group.tz,
            "rules_revision": group.rules_revision,
            "closure_days": [{"date": d, "reason": r} for d, r in group.closures.items()],
            "sessions": [_session_out(s, group.tz) for s in group.sessions],
            "enrolments": children,
        }
    )


def _session_out(s: Session, tz: str) -> SessionOut:
    return SessionOut(date=s.day, starts_at=s.start, ends_at=s.ends_at.astimezone(zone(tz)).time(), closure=s.closure)


def _mark_out(m: dict[str, Any], tz: str) -> MarkOut:
    return MarkOut(
        date=m["session_date"],
        starts_at=m["starts_at"].astimezone(zone(tz)).time(),
        status=m["status"],
        scheduled=m["scheduled"],
        closure_day=m["closure_day"],
        reason=m["reason"],
        marked_by=m["marked_by"],
        marked_at=m["marked_at"],
    )


# --- submission ---------------------------------------------------------------------------------------


async def submit(
    deps: Dependencies,
    caller: Caller,
    period_name: str,
    *,
    programme_id: UUID | None = None,
    provider_id: UUID | None = None,
    enrolment_ids: list[UUID] | None = None,
) -> SubmitOut:
    """Submit the complete drafts of a group (or of all the provider's groups) for a finished month."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        if programme_id is not None:
            found = await programme_repository.get_programme(session, programme_id)
            if found is None or not caller.owns_provider(found["provider_id"]):
                raise NotFound("no such programme")
            programmes = [found]
        else:
            if provider_id is None or not caller.owns_provider(provider_id):
                raise NotFound("no such provider")
            programmes = await programme_repository.programmes_of_provider(session, provider_id)
        result: dict[str, Any] = {
            "period": period_name,
            "submitted": 0,
            "late": False,
            "incomplete_count": 0,
            "incomplete": [],
            "refused": [],
        }
        by_region: dict[str, list[dict[str, Any]]] = {}
        for p in programmes:
            by_region.setdefault(p["region_code"], []).append(p)
        for region_code, members in sorted(by_region.items()):
            await _submit_region(session, caller, region_code, members, period_name, enrolment_ids, now, result)
        return SubmitOut.model_validate(result)


async def _submit_region(
    session: AsyncSession,
    caller: Caller,
    region_code: str,
    members: list[dict[str, Any]],
    period_name: str,
    enrolment_ids: list[UUID] | None,
    now: datetime,
    result: dict[str, Any],
) -> None:
    tz = await region_timezone(session, region_code)
    period = parse_period(period_name, tz)
    if now < period.ends_at:
        raise FieldError("period", f"{period.name} is not over yet: it ends at {period.ends_at.isoformat()}")
    revision, rules, _ = await region_repository.current_rules(session, region_code)
    ids = [p["id"] for p in members]
    late = now > rules.submission_deadline(period.name, tz)
    if late:
        permitted = await timesheet_repository.permitted_late(session, ids, period.name, now)
        for programme_id in ids:
            if programme_id not in permitted:
                result["refused"].append(
                    {
                        "programme_id": programme_id,
                        "reason": f"the deadline passed at {rules.submission_deadline(period.name, tz).isoformat()}; "
                        "an operator must allow a late submission",
                    }
                )
        ids = [i for i in ids if i in permitted]
        if not ids:
            if len(members) == 1:
                raise Conflict(result["refused"][0]["reason"])
            return
    # the same lock marking takes: no mark lands in a month while it is being submitted
    await programme_repository.lock_programmes(session, ids)
    await timesheet_repository.ensure_drafts(session, ids, period, now)
    timesheet_ids = None
    if enrolment_ids is not None:
        timesheet_ids = await timesheet_repository.ids_of_enrolments(session, enrolment_ids, period.name)
    days = month_days(period.name)
    rows = await timesheet_repository.submit(
        session,
        region_code=region_code,
        period=period.name,
        tz=tz,
        month=(days[0], days[-1]),
        closed=sorted(rules.closures_in(period.name)),
        programme_ids=ids,
        timesheet_ids=timesheet_ids,
        rules_revision=revision,
        rules=rules,
        confirm_by=rules.confirmation_deadline(period.name, tz, now, late),
        late=late,
        now=now,
        actor=caller.actor,
    )
    submitted = [r for r in rows if r["submitted"]]
    incomplete = [r for r in rows if not r["submitted"]]
    result["submitted"] += len(submitted)
    result["late"] = result["late"] or (late and bool(submitted))
    result["incomplete_count"] += len(incomplete)
    if incomplete:
        listed = incomplete[: max(0, INCOMPLETE_LISTED - len(result["incomplete"]))]
        owners = await timesheet_repository.enrolments_of(session, [r["id"] for r in listed])
        result["incomplete"].extend(
            {"timesheet_id": r["id"], "enrolment_id": owners[r["id"]], "missing_sessions": r["missing"]} for r in listed
        )


async def permit_late(
    deps: Dependencies, caller: Caller, programme_id: UUID, period_name: str, reason: str, days: int
) -> LatePermitOut:
    """An operator of the region (or an administrator) lets the provider submit a month after its deadline."""
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        found = await programme_repository.get_programme(session, programme_id)
        if found is None or not caller.may_decide_for(found["region_code"], found["district_code"]):
            raise NotFound("no such programme")
        tz = await region_timezone(session, found["region_code"])
        period = parse_period(period_name, tz)
        if now < period.ends_at:
            raise FieldError("period", f"{period.name} is not over yet")
        values = {
            "programme_id": programme_id,
            "period": period.name,
            "granted_by": caller.actor,
            "granted_at": now,
            "valid_until": now + timedelta(days=days),
            "reason": reason,
        }
        await timesheet_repository.grant_late(session, values)
        return LatePermitOut.model_validate(values)


# --- reading ------------------------------------------------------------------------------------------


async def visible_timesheet(
    session: AsyncSession, caller: Caller, timesheet_id: UUID, *, lock: bool = False
) -> dict[str, Any]:
    row = await timesheet_repository.get(session, timesheet_id, lock=lock)
    if row is None:
        raise NotFound("no such timesheet")
    guardian = caller.role == "parent" and await guardian_repository.is_guardian(
        session, row["child_id"], caller.subject
    )
    if not caller.sees_timesheet(row, guardian):
        raise NotFound("no such timesheet")
    return row


async def detail(deps: Dependencies, caller: Caller, timesheet_id: UUID) -> TimesheetDetailOut:
    async with deps.sessions() as session:
        row = await visible_timesheet(session, caller, timesheet_id)
        tz = await region_timezone(session, row["region_code"])
        marks = await timesheet_repository.marks_of(session, [timesheet_id])
        decisions = await timesheet_repository.decisions_of(session, timesheet_id)
        opened = await dispute_repository.of_timesheet(session, timesheet_id)
        disputed = await dispute_repository.sessions_of(session, opened["id"]) if opened is not None else []
        return TimesheetDetailOut.model_validate(
            {
                **row,
                "timezone": tz,
                "sessions": [_mark_out(m, tz) for m in marks],
                "decisions": [
                    {"action": d["action"], "actor": d["actor"], "at": d["at"], "detail": d["detail"]}
                    for d in decisions
                ],
                "dispute": {**opened, "sessions": disputed} if opened is not None else None,
            }
        )


async def _visible_timesheets(
    session: AsyncSession,
    caller: Caller,
    *,
    period: str | None,
    status: str | None,
    child_id: UUID | None,
    programme_id: UUID | None,
) -> Select[Any]:
    """Timesheets the caller may see: a guardian's children, a provider's own, an operator's region (their
    district's, when their token names one), all of them for administrators, auditors and ops, and none for any
    other role (a partner's token reads no timesheet)."""
    filters: dict[str, Any] = {"period": period, "status": status, "child_id": child_id, "programme_id": programme_id}
    if caller.role not in ("parent", "provider_staff", "operator", *READERS):
        return timesheet_queries.timesheets(none=True)
    if caller.role == "parent":
        return timesheet_queries.timesheets(
            child_ids=await guardian_repository.children_of(session, caller.subject), **filters
        )
    if caller.role == "provider_staff":
        return timesheet_queries.timesheets(provider_id=caller.provider_id, none=caller.provider_id is None, **filters)
    if caller.role == "operator":
        return timesheet_queries.timesheets(
            region_code=caller.operator_region, district_code=caller.district, **filters
        )
    return timesheet_queries.timesheets(**filters)


async def list_timesheets(
    deps: Dependencies,
    caller: Caller,
    *,
    period: str | None,
    status: str | None,
    child_id: UUID | None,
    programme_id: UUID | None,
) -> OffsetPage[TimesheetOut]:
    async with deps.sessions() as session:
        query = await _visible_timesheets(
            session, caller, period=period, status=status, child_id=child_id, programme_id=programme_id
        )
        return await page_of(session, query, TimesheetOut)


async def payable(
    deps: Dependencies, caller: Caller, region_code: str | None, period: str | None
) -> OffsetPage[PayableOut]:
    """The payable months; an operator reads their own region's only."""
    if caller.role == "operator":
        own = caller.operator_region
        if region_code is not None and region_code != own:
            raise Forbidden("operators read their own region only")
        region_code = own
    async with deps.sessions() as session:
        return await page_of(session, timesheet_queries.payable(region_code, period, caller.district), PayableOut)
