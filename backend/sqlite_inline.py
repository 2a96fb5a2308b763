"""SQLite for the asyncio engine, answered on the event loop itself: no driver thread.

SQLAlchemy's aiosqlite dialect hands every call (cursor, execute, fetch, close, commit) to
aiosqlite's thread and waits for it, each time switching out of the statement's greenlet and
back: three round trips a statement, about thirty a chat turn. SQLite answers these statements
in microseconds from the page cache, so the waiting cost more than the work (see
bench/wechat_webhook.py). This dialect keeps SQLAlchemy's aiosqlite dialect (SQL, types, pool,
disconnect handling) but adapts a plain ``sqlite3`` connection: the cursor runs a statement and
reads its rows synchronously, inside the one await that SQLAlchemy's asyncio layer requires of
an execution; cursors are opened and closed, and transactions committed, without leaving the
greenlet.

It is safe because a process has a single SQLite connection (``backend.db.make_engine``), so no
statement ever waits on another of the same process; a write of another process (the CLI) can
make one wait up to the busy timeout, blocking the loop for that long.

The adapters subclass SQLAlchemy's own (``sqlalchemy.connectors.asyncio``), which are not a
public API: the dialect is used only with the SQLAlchemy versions it was checked against, and
any other keeps the aiosqlite dialect (``supported``).
"""
from __future__ import annotations

import collections
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any, cast

import sqlalchemy
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.util import immutabledict
from sqlalchemy.util.concurrency import await_

CHECKED_VERSIONS = ("2.1.",)
DRIVER = "jiahu_inline"


def supported() -> bool:
    """True when this SQLAlchemy's asyncio adapters are the ones this module was checked on."""
    return sqlalchemy.__version__.startswith(CHECKED_VERSIONS)


def url_for(url: str | URL) -> URL:
    """``sqlite+aiosqlite:///…`` (or plain ``sqlite:///…``) as this dialect's URL."""
    return make_url(url).set(drivername=f"sqlite+{DRIVER}")


async def _done(value: Any) -> Any:
    return value


class InlineCursor(AsyncAdapt_aiosqlite_cursor):
    """A ``sqlite3`` cursor; ``execute`` reads the rows at once, as the aiosqlite adapter does."""

    __slots__ = ()

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = cast(Any, self._connection).cursor()
        self._soft_closed_memoized = immutabledict()
        self._rows = collections.deque()

    @property
    def _sqlite(self) -> sqlite3.Cursor:
        return cast(sqlite3.Cursor, self._cursor)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            cursor = self._sqlite
            result = cursor.execute(operation) if parameters is None else cursor.execute(operation, parameters)
            if cursor.description and not self.server_side:
                self._rows = collections.deque(cursor.fetchall())
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        return await_(_done(result))  # the await SQLAlchemy's AsyncConnection.execute checks for

    def executemany(self, operation: Any, seq_of_parameters: Iterable[Any]) -> Any:
        try:
            result = self._sqlite.executemany(operation, seq_of_parameters)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        return await_(_done(result))

    async def _async_soft_close(self) -> None:
        return None  # nothing pending: close() is synchronous

    def close(self) -> None:
        self._rows.clear()
        self._sqlite.close()


class InlineServerSideCursor(InlineCursor, AsyncAdapt_aiosqlite_ss_cursor):
    """For ``stream()``: rows are fetched from the ``sqlite3`` cursor as they are asked for."""

    __slots__ = ()
    server_side = True

    def fetchone(self) -> Any:
        return self._sqlite.fetchone()

    def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        return self._sqlite.fetchmany(self._sqlite.arraysize if size is None else size)

    def fetchall(self) -> Sequence[Any]:
        return self._sqlite.fetchall()

    def __iter__(self) -> Any:
        return iter(self._sqlite)


class InlineConnection(AsyncAdapt_aiosqlite_connection):
    """A ``sqlite3`` connection behind SQLAlchemy's asyncio connection adapter."""

    __slots__ = ()
    _cursor_cls = InlineCursor
    _ss_cursor_cls = InlineServerSideCursor

    @property
    def _sqlite(self) -> sqlite3.Connection:
        return cast(sqlite3.Connection, self._connection)

    @property
    def isolation_level(self) -> str | None:
        return self._sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._sqlite.isolation_level = value  # type: ignore[assignment]  # None: autocommit, as SQLAlchemy sets it

    def create_function(self, *args: Any, **kw: Any) -> None:
        self._sqlite.create_function(*args, **kw)

    def commit(self) -> None:
        try:
            self._sqlite.commit()
        except Exception as error:
            self._handle_exception(error)

    def rollback(self) -> None:
        try:
            self._sqlite.rollback()
        except Exception as error:
            self._handle_exception(error)

    def close(self) -> None:
        self._sqlite.close()

    def terminate(self) -> None:
        self._sqlite.close()


class InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module: ``sqlite3``'s exceptions and types, connections adapted inline."""

    def __init__(self) -> None:
        super().__init__(sqlite3, sqlite3)

    def connect(self, *args: Any, **kw: Any) -> InlineConnection:  # type: ignore[override]
        kw.pop("async_creator_fn", None)
        # opened on whichever thread the pool is asked from (SQLAlchemy may dispose from another)
        return InlineConnection(self, sqlite3.connect(*args, **{**kw, "check_same_thread": False}))


class SQLiteDialect_inline(SQLiteDialect_aiosqlite):
    """Transactions begin with ``BEGIN IMMEDIATE`` (why: ``backend.db.make_engine``), sent by the
    dialect's own ``do_begin`` rather than by a ``begin`` event, which would also make SQLAlchemy
    dispatch its execution events around every statement."""

    driver = DRIVER
    supports_statement_cache = True

    def do_begin(self, dbapi_connection: Any) -> None:
        dbapi_connection.driver_connection.execute("BEGIN IMMEDIATE")

    @classmethod
    def import_dbapi(cls) -> InlineDBAPI:  # type: ignore[override]
        return InlineDBAPI()

    def retrieve_dbapi_version(self, dbapi: Any) -> Any:
        return tuple(int(part) for part in sqlite3.sqlite_version.split("."))  # no driver: the library's


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inline")
