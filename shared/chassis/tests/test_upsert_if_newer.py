"""upsert_if_newer: a revisioned projection never goes back in time, whatever order events arrive in."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, select

from qosym_chassis.db import upsert_if_newer

metadata = MetaData()
projection = Table(
    "projection",
    metadata,
    Column("code", Text, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("name", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


async def test_newer_revisions_win_and_older_ones_change_nothing(engine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    from sqlalchemy.ext.asyncio import async_sessionmaker

    sessions = async_sessionmaker(engine)
    written = []
    for revision, name in [(2, "two"), (1, "one"), (2, "two again"), (3, "three"), (3, "three again")]:
        async with sessions.begin() as session:
            written.append(
                await upsert_if_newer(
                    session, projection, {"code": "astana", "revision": revision, "name": name}, key=["code"]
                )
            )
    assert written == [True, False, False, True, False]
    async with sessions() as session:
        row = (await session.execute(select(projection.c.revision, projection.c.name))).one()
    assert tuple(row) == (3, "three")


async def test_also_when_lets_the_same_revision_fill_a_missing_column(engine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    from sqlalchemy.ext.asyncio import async_sessionmaker

    sessions = async_sessionmaker(engine)
    async with sessions.begin() as session:
        assert await upsert_if_newer(session, projection, {"code": "almaty", "revision": 1, "name": None}, key=["code"])
    async with sessions.begin() as session:
        assert await upsert_if_newer(
            session,
            projection,
            {"code": "almaty", "revision": 1, "name": "filled"},
            key=["code"],
            also_when=projection.c.name.is_(None),
        )
    async with sessions.begin() as session:
        assert not await upsert_if_newer(
            session,
            projection,
            {"code": "almaty", "revision": 1, "name": "again"},
            key=["code"],
            also_when=projection.c.name.is_(None),
        )
    async with sessions() as session:
        assert (await session.execute(select(projection.c.name))).scalar_one() == "filled"
