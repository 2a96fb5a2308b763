"""The SQLite write path: one connection a process, statements on the event loop, turns in line."""
from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

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
            assert connection.dialect.driver == sqlite_inline.DRIVER
            assert connection.dialect.dbapi_version == sqlite3.sqlite_version_info
            raw = await connection.get_raw_connection()
            assert isinstance(raw.dbapi_connection, sqlite_inline.InlineConnection)
            assert isinstance(raw.driver_connection, sqlite3.Connection)  # no driver thread
            mode = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
            assert mode == 1  # NORMAL: WAL syncs at checkpoints
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(tmp_path) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    yield engine
    await engine.dispose()


async def test_a_stream_reads_rows_as_asked_for(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        result = await connection.stream(text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                                              "SELECT i + 1 FROM n WHERE i < 1000) SELECT i FROM n"))
        assert [row[0] async for row in result] == list(range(1, 1001))


async def test_an_error_is_the_dbapi_error_and_the_connection_goes_on(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(OperationalError, match="no such table"):
            await connection.execute(text("SELECT * FROM missing"))
        await connection.rollback()
        assert (await connection.execute(text("SELECT 2"))).scalar_one() == 2


def test_an_unchecked_sqlalchemy_keeps_the_aiosqlite_dialect(monkeypatch, tmp_path) -> None:
    import sqlalchemy

    monkeypatch.setattr(sqlalchemy, "__version__", "9.0.0")
    assert not sqlite_inline.supported()
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    assert engine.dialect.driver == "aiosqlite"


@pytest.mark.parametrize("inline", [True, False])
async def test_a_transaction_takes_the_write_lock_at_begin(tmp_path, monkeypatch, inline: bool) -> None:
    """A transaction that has only read still keeps another process's writer out (BEGIN
    IMMEDIATE): two never both read and then fail to become writers."""
    if not inline:
        monkeypatch.setattr(sqlite_inline, "supported", lambda: False)
    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
        async with engine.begin() as connection:
            assert connection.dialect.driver == (sqlite_inline.DRIVER if inline else "aiosqlite")
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            other = sqlite3.connect(path, timeout=0.05)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("INSERT INTO t VALUES (1)")
            finally:
                other.close()
    finally:
        await engine.dispose()
