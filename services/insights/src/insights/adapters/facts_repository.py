"""All writes of the read model: each event sets its own columns of a fact row, whatever order events arrive in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from insights.adapters.orm import (
    accrual,
    application,
    child,
    enrolment,
    freshness,
    payout,
    programme,
    region,
    round_,
    timesheet,
    voucher,
)
from qosym_chassis.db import insert_from_arrays, upsert_if_newer


async def _merge(
    session: AsyncSession,
    table: Table,
    key: Sequence[str],
    values: Mapping[str, Any],
    where: ColumnElement[bool] | None = None,
    keep_first: Sequence[str] = (),
) -> None:
    """Insert the row, or set ``values``' columns on the existing one (``keep_first``: only where still NULL)."""
    statement = insert(table).values(**values)
    updates: dict[str, Any] = {}
    for name in values:
        if name in key:
            continue
        if name in keep_first:
            updates[name] = func.coalesce(table.c[name], statement.excluded[name])
        else:
            updates[name] = statement.excluded[name]
    if not updates:
        await session.execute(statement.on_conflict_do_nothing())
        return
    await session.execute(
        statement.on_conflict_do_update(index_elements=[table.c[k] for k in key], set_=updates, where=where)
    )


def _collapsed(rows: Sequence[Mapping[str, Any]], key: str, keep_first: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of one statement, one per key (an upsert may not touch a row twice), as if applied one after another:
    a later row's value wins, except in ``keep_first`` columns where the first one set stays; in key order."""
    merged: dict[Any, dict[str, Any]] = {}
    for row in rows:
        current = merged.get(row[key])
        if current is None:
            merged[row[key]] = dict(row)
            continue
        for name, value in row.items():
            if name not in keep_first or current.get(name) is None:
                current[name] = value
    return [merged[k] for k in sorted(merged, key=str)]


async def _merge_many(
    session: AsyncSession, table: Table, key: str, rows: Sequence[Mapping[str, Any]], keep_first: Sequence[str] = ()
) -> None:
    """``_merge`` for many rows with the same columns, in one statement."""
    if not rows:
        return
    statement = insert_from_arrays(table, _collapsed(rows, key, keep_first))
    updates: dict[str, Any] = {
        name: func.coalesce(table.c[name], statement.excluded[name]) if name in keep_first else statement.excluded[name]
        for name in rows[0]
        if name != key
    }
    if not updates:
        await session.execute(statement.on_conflict_do_nothing())
        return
    await session.execute(statement.on_conflict_do_update(index_elements=[table.c[key]], set_=updates))


async def put_applications(
    session: AsyncSession, rows: Sequence[Mapping[str, Any]], keep_first: Sequence[str] = ()
) -> None:
    await _merge_many(session, application, "application_id", rows, keep_first=keep_first)


async def put_vouchers(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    await _merge_many(session, voucher, "voucher_id", rows)


async def put_children_details(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
    """``put_child_details`` for many in one statement: per child the newest details (the first of equal times, as
    one after another a later one of the same time changes nothing)."""
    if not rows:
        return
    newest: dict[Any, Mapping[str, Any]] = {}
    for row in rows:
        seen = newest.get(row["child_key"])
        if seen is None or seen["details_at"] < row["details_at"]:
            newest[row["child_key"]] = row
    statement = insert_from_arrays(child, [newest[k] for k in sorted(newest)])
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[child.c.child_key],
            set_={name: statement.excluded[name] for name in rows[0] if name != "child_key"},
            where=child.c.details_at.is_(None) | (child.c.details_at < statement.excluded.details_at),
        )
    )


async def touch_many(session: AsyncSession, seen: Sequence[tuple[str | None, datetime]]) -> None:
    """``touch`` for many events' ``(region_code, occurred_at)`` in one statement."""
    latest: dict[str, datetime] = {}
    for region_code, at in seen:
        for scope in ("all", region_code) if region_code else ("all",):
            latest[scope] = max(at, latest.get(scope, at))
    if not latest:
        return
    statement = insert(freshness).values(
        [{"scope": scope, "last_event_at": at} for scope, at in sorted(latest.items())]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[freshness.c.scope],
            set_={"last_event_at": func.greatest(freshness.c.last_event_at, statement.excluded.last_event_at)},
        )
    )


async def touch(session: AsyncSession, region_code: str | None, at: datetime) -> None:
    """The freshness of the figures: the latest event time applied, overall and per region."""
    for scope in ("all", region_code) if region_code else ("all",):
        statement = insert(freshness).values(scope=scope, last_event_at=at)
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[freshness.c.scope],
                set_={"last_event_at": func.greatest(freshness.c.last_event_at, statement.excluded.last_event_at)},
            )
        )


async def put_region(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await upsert_if_newer(session, region, values, key=["code"])


async def put_child_details(session: AsyncSession, values: Mapping[str, Any]) -> None:
    statement = insert(child).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[child.c.child_key],
            set_={name: statement.excluded[name] for name in values if name != "child_key"},
            where=child.c.details_at.is_(None) | (child.c.details_at < statement.excluded.details_at),
        )
    )


async def put_child_categories(session: AsyncSession, values: Mapping[str, Any]) -> None:
    statement = insert(child).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[child.c.child_key],
            set_={name: statement.excluded[name] for name in values if name != "child_key"},
            where=child.c.categories_at.is_(None) | (child.c.categories_at < statement.excluded.categories_at),
        )
    )


async def put_round(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await _merge(session, round_, ["round_id"], values)


async def put_application(session: AsyncSession, values: Mapping[str, Any], keep_first: Sequence[str] = ()) -> None:
    await _merge(session, application, ["application_id"], values, keep_first=keep_first)


async def put_voucher(session: AsyncSession, values: Mapping[str, Any], keep_first: Sequence[str] = ()) -> None:
    await _merge(session, voucher, ["voucher_id"], values, keep_first=keep_first)


async def put_programme(session: AsyncSession, values: Mapping[str, Any]) -> None:
    statement = insert(programme).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[programme.c.programme_id],
            set_={name: statement.excluded[name] for name in values if name != "programme_id"},
            where=programme.c.source_at.is_(None) | (programme.c.source_at <= statement.excluded.source_at),
        )
    )


async def close_programme(session: AsyncSession, programme_id: Any, at: datetime) -> None:
    await _merge(session, programme, ["programme_id"], {"programme_id": programme_id, "closed_at": at})


async def put_enrolment(session: AsyncSession, values: Mapping[str, Any], keep_first: Sequence[str] = ()) -> None:
    await _merge(session, enrolment, ["enrolment_id"], values, keep_first=keep_first)


async def put_timesheet(session: AsyncSession, values: Mapping[str, Any], keep_first: Sequence[str] = ()) -> None:
    await _merge(session, timesheet, ["timesheet_id"], values, keep_first=keep_first)


async def put_accrual(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(accrual).values(**values).on_conflict_do_nothing())


async def put_payout(session: AsyncSession, values: Mapping[str, Any]) -> None:
    await session.execute(insert(payout).values(**values).on_conflict_do_nothing())
