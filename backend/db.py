"""Engine, sessions and migrations. Callers open one session per unit of work."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, bindparam, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from backend import sqlite_inline, sqlite_wal

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> AsyncEngine:
    """An async engine. On SQLite one connection does all the work of a process: SQLite lets one
    writer in at a time anyway, and a turn waiting for the pool's connection waits in line (first
    come, first served) instead of sleeping in SQLite's busy handler and retrying, which made the
    slowest turns take seconds under load (bench/wechat_webhook.py). WAL lets other processes
    (the CLI) read meanwhile; their writes wait on the busy timeout."""
    if url.startswith("sqlite"):
        _make_folder(url)
        # statements answered on the event loop (backend/sqlite_inline.py) where that is supported
        engine = create_async_engine(sqlite_inline.url_for(url) if sqlite_inline.supported() else url,
                                     connect_args={"timeout": 30}, pool_size=1, max_overflow=0, pool_timeout=60)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL syncs at checkpoints, not at every commit (an fsync took 3.4 ms
            # a commit on the development machine, twice a message): a crash of the process loses
            # nothing, a power cut may lose the last commits, and the file stays consistent.
            cursor.execute("PRAGMA synchronous=NORMAL")
            # checkpoints are a serving process's thread's work (backend/sqlite_wal.py)
            cursor.execute(f"PRAGMA wal_autocheckpoint={sqlite_wal.WAL_AUTOCHECKPOINT_PAGES}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        # Take the write lock at BEGIN: two processes never both read and then fail to upgrade to
        # writers (SQLITE_BUSY_SNAPSHOT); SAVEPOINTs work as documented. The inline dialect
        # begins so itself.
        if engine.dialect.driver != sqlite_inline.DRIVER:
            @event.listens_for(engine.sync_engine, "begin")
            def _begin_immediate(conn):  # type: ignore[no-untyped-def]
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _make_folder(url: str) -> None:
    """The folder of a SQLite database file, made if missing (a new data directory)."""
    path = sqlite_wal.database_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


Built = TypeVar("Built")
_INSERTS: dict[str, Callable[[Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def per_dialect(build: Callable[[Callable[[Table], Any]], Built]) -> dict[str, Built]:
    """A statement with ``ON CONFLICT`` built once for each database jiahu runs on, by the
    dialect's name: ``build`` is given that dialect's ``insert``. Building such a statement
    costs more than SQLite takes to run it, so hot paths build theirs at import."""
    return {name: build(insert) for name, insert in _INSERTS.items()}


def insert_values(insert: Callable[[Table], Any], table: Table, *columns: str) -> Any:
    """``insert(table)`` of one row whose ``columns`` are bind parameters of the same names."""
    return insert(table).values({name: bindparam(name, type_=table.c[name].type) for name in columns})


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed on success and rolled back on error."""
    async with sessions() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Apply migrations (blocking); used by ``jiahu db upgrade`` and at start."""
    _make_folder(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade_sync, url, revision)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return False
