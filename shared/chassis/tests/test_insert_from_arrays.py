"""``insert_from_arrays``: many rows in one statement of one text, in order, upserts and NULLs as VALUES would."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, Column, DateTime, Identity, Integer, MetaData, Table, Text, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from qosym_chassis.db import insert_from_arrays

pytestmark = pytest.mark.component

metadata = MetaData()
row_table = Table(
    "array_rows",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("item_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("name", Text),
    Column("amount", Integer),
    Column("at", DateTime(timezone=True)),
    Column("tags", ARRAY(Text)),
)


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
        await connection.run_sync(metadata.create_all)
    return engine


async def test_rows_go_in_in_the_given_order_with_their_types_and_nulls(db):
    at = datetime(2026, 9, 1, 9, 30, tzinfo=UTC)
    rows = [{"item_id": uuid.uuid4(), "name": f"n{i}", "amount": None if i == 2 else i, "at": at} for i in range(5)]
    async with db.begin() as conn:
        await conn.execute(insert_from_arrays(row_table, rows))
    async with db.connect() as conn:
        got = (await conn.execute(select(row_table).order_by(row_table.c.seq))).mappings().all()
    assert [(r["item_id"], r["name"], r["amount"], r["at"]) for r in got] == [
        (r["item_id"], r["name"], r["amount"], r["at"]) for r in rows
    ]


async def test_one_statement_text_for_any_number_of_rows_and_upserts_use_excluded(db):
    first = [{"item_id": uuid.uuid4(), "name": "a", "amount": 1}]
    many = [{"item_id": first[0]["item_id"], "name": "b", "amount": 2}] + [
        {"item_id": uuid.uuid4(), "name": "c", "amount": 3} for _ in range(40)
    ]
    texts = []
    async with db.begin() as conn:
        for rows in (first, many):
            statement = insert_from_arrays(row_table, rows)
            statement = statement.on_conflict_do_update(
                index_elements=[row_table.c.item_id],
                set_={"name": statement.excluded.name, "amount": row_table.c.amount + statement.excluded.amount},
            )
            texts.append(str(statement.compile(dialect=conn.dialect)))
            await conn.execute(statement)
    assert texts[0] == texts[1]
    async with db.connect() as conn:
        kept = (await conn.execute(select(row_table).where(row_table.c.item_id == first[0]["item_id"]))).one()
        total = len((await conn.execute(select(row_table.c.seq))).all())
    assert (kept.name, kept.amount) == ("b", 3)
    assert total == 41


def test_no_rows_and_array_columns_are_refused():
    with pytest.raises(ValueError):
        insert_from_arrays(row_table, [])
    with pytest.raises(ValueError, match="array column"):
        insert_from_arrays(row_table, [{"item_id": uuid.uuid4(), "tags": ["x"]}])
