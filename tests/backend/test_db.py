"""The SQLite write path: one connection a process, statements on the event loop, turns in line."""
from __future__ import annotations

import asyncio

from sqlalchemy import text

from backend import sqlite_inline
from backend.db import make_engine, make_sessionmaker, transaction


async def test_concurrent_writers_wait_in_line_and_all_commit(tmp_path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'line.db'}")
    sessions = make_sessionmaker(engine)
    try:
        async with transaction(sessions) as session:
            await session.execute(text("CREATE TABLE counter (n INTEGER)"))
            await session.execute(text("INSERT INTO counter VALUES (0)"))
        order: list[int] = []

        async def writer(number: int) -> None:
            async with transaction(sessions) as session:
                value = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
                await asyncio.sleep(0)  # another writer may run now, but not inside this transaction
                await session.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})
                order.append(number)

        await asyncio.gather(*(writer(n) for n in range(20)))
        async with transaction(sessions) as session:
            assert (await session.execute(text("SELECT n FROM counter"))).scalar_one() == 20
        assert order == list(range(20))  # first come, first served
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            assert isinstance(raw.driver_connection, sqlite_inline.InlineConnection)
            mode = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
            assert mode == 1  # NORMAL: WAL syncs at checkpoints
    finally:
        await engine.dispose()


def test_an_unknown_aiosqlite_keeps_its_thread(monkeypatch) -> None:
    import aiosqlite

    monkeypatch.setattr(aiosqlite, "__version__", "9.0.0")
    assert not sqlite_inline.supported()
