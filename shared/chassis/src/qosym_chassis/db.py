"""Database glue: engine and session factories, and a metadata naming convention."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, MetaData, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def asyncpg_url(url: str) -> str:
    """Any PostgreSQL URL, with the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, *, application_name: str, pool_size: int = 10, pre_ping: bool = True) -> AsyncEngine:
    """``pre_ping`` tests each connection taken from the pool (with asyncpg: BEGIN, a ping, ROLLBACK); a caller
    that retries a failed unit of work on a fresh connection anyway (the event consumer) can do without.
    Parameters never appear in an error's message (``hide_parameters``): those messages reach logs."""
    return create_async_engine(
        asyncpg_url(url),
        pool_pre_ping=pre_ping,
        # SQLAlchemy's error messages quote the parameters otherwise (names, complaint text, IIN ciphertext)
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"application_name": application_name}, "command_timeout": 30},
    )


def make_session_factory(engine: AsyncEngine, info: dict[str, Any] | None = None) -> async_sessionmaker[AsyncSession]:
    """``info`` is copied to every session's ``session.info`` (the audit trail finds its keys there)."""
    return async_sessionmaker(engine, expire_on_commit=False, info=dict(info or {}))


async def upsert_if_newer(
    session: AsyncSession,
    table: Table,
    values: Mapping[str, Any],
    *,
    key: Sequence[str],
    revision: str = "revision",
    also_when: ColumnElement[bool] | None = None,
    touch: str | None = "updated_at",
) -> bool:
    """Insert a revisioned projection row, or overwrite it only when ``values`` carry a newer revision.

    The one way every service keeps a projection of revisioned reference data (regions, programmes, providers):
    events may arrive twice or out of order, and an older revision never overwrites a newer one. ``also_when`` adds
    a condition under which the same revision may be rewritten (e.g. a column the row lacks). ``touch`` names a
    timestamp column set to ``now()`` on update (None for tables without one). Returns True when the row was
    written, False when the stored revision was as new or newer (the row stays locked until commit either way
    only when written).
    """
    statement = insert(table).values(**values)
    where = table.c[revision] < statement.excluded[revision]
    if also_when is not None:
        where = where | also_when
    updates: dict[str, Any] = {name: statement.excluded[name] for name in values if name not in key}
    if touch is not None and touch in table.c:
        updates[touch] = func.now()
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in key], set_=updates, where=where
        ).returning(table.c[key[0]])
    )
    return result.first() is not None


def insert_from_arrays(table: Table, rows: Sequence[Mapping[str, Any]]) -> Insert:
    """``INSERT INTO table (...) SELECT ... FROM unnest(:col1, :col2, ...) WITH ORDINALITY ORDER BY ordinality``.

    Many rows in one statement whose text is the same for any number of rows, so SQLAlchemy compiles it once and
    asyncpg prepares it once per connection; a multi-row ``VALUES`` is a new statement for every row count (in a
    round's burst, compiling those was 45 % of a consumer's time: docs/performance.md). The rows are inserted in
    the given order; each row has the first row's columns (a missing one is NULL). The result is a PostgreSQL
    ``Insert``, so ``.on_conflict_do_update(...)`` with ``.excluded`` and ``.returning(...)`` work as usual. Array
    columns cannot be passed this way (unnest flattens an array of arrays)."""
    if not rows:
        raise ValueError("insert_from_arrays needs at least one row")
    names = list(rows[0])
    for name in names:
        if isinstance(table.c[name].type, ARRAY):
            raise ValueError(f"{table.name}.{name} is an array column: insert it with VALUES")
    arrays = [
        bindparam(f"arr_{i}", [row.get(name) for row in rows], type_=ARRAY(table.c[name].type))
        for i, name in enumerate(names)
    ]
    source = func.unnest(*arrays).table_valued(*names, with_ordinality="arr_n").render_derived(name="arr")
    ordered = select(*(source.c[name] for name in names)).order_by(source.c.arr_n)
    return insert(table).from_select(names, ordered)
