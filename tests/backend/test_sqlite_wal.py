"""WAL checkpoints on a thread of their own, not inside a turn's commit."""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from backend.db import make_engine
from backend.sqlite_wal import WAL_AUTOCHECKPOINT_PAGES, WalCheckpointer, database_path


async def _write_a_megabyte(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS t (x TEXT)"))
        await connection.execute(text("INSERT INTO t VALUES (:x)"), [{"x": "汉" * 1000}] * 350)


async def test_commits_leave_the_log_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            pages = (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one()
            assert pages == WAL_AUTOCHECKPOINT_PAGES
        for _ in range(5):  # past SQLite's default 1,000 pages (4 MB), yet no commit copied the log
            await _write_a_megabyte(engine)
        assert path.stat().st_size < 1_000_000

        checkpointer = WalCheckpointer(path, interval=0.01).start()
        try:
            for _ in range(500):
                if path.stat().st_size > 5_000_000:
                    break
                await asyncio.sleep(0.01)
        finally:
            await asyncio.to_thread(checkpointer.stop)
        assert path.stat().st_size > 5_000_000  # the rows are in the database file now
        assert checkpointer.checkpoints >= 1
        assert not any(t.name == "jiahu-wal-checkpoint" for t in threading.enumerate())
        async with engine.connect() as connection:  # and the log is read as before
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 1750
    finally:
        await engine.dispose()


async def test_a_writer_keeps_writing_while_a_checkpoint_runs(tmp_path: Path) -> None:
    """PASSIVE: the checkpoint never holds the write lock, so a turn's commit does not wait."""
    path = tmp_path / "busy.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    checkpointer = WalCheckpointer(path, interval=0.001).start()
    try:
        for _ in range(5):
            await _write_a_megabyte(engine)
    finally:
        await asyncio.to_thread(checkpointer.stop)
        await engine.dispose()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (1750,)


def test_a_checkpointer_that_cannot_open_the_file_says_so_and_stops(tmp_path: Path) -> None:
    with capture_logs() as logs:
        checkpointer = WalCheckpointer(tmp_path / "missing" / "x.db", interval=0.01).start()
        checkpointer.stop()
    assert checkpointer.checkpoints == 0
    assert [entry["event"] for entry in logs] == ["wal.checkpointer_not_started"]


@pytest.mark.parametrize(("url", "path"), [
    ("sqlite+aiosqlite:////var/lib/jiahu/jiahu.db", Path("/var/lib/jiahu/jiahu.db")),
    ("sqlite+jiahu_inline:///var/jiahu.db", Path("var/jiahu.db")),
    ("sqlite:///:memory:", None),
    ("sqlite+aiosqlite://", None),
    ("postgresql+asyncpg://postgres@127.0.0.1/test", None),
])
def test_database_path(url: str, path: Path | None) -> None:
    assert database_path(url) == path
