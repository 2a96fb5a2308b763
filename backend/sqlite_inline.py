"""SQLite statements run on the event loop itself instead of hopping to aiosqlite's thread.

aiosqlite hands every call (cursor, execute, fetch, commit) to a thread of its own and wakes the
event loop when it is done: about thirty round trips a chat turn, each paying for the GIL
changing hands. SQLite answers these statements in microseconds from the page cache, so waiting
for the thread cost more than the work (a turn spent about a third of its time so; see
bench/wechat_webhook.py). ``InlineConnection`` runs them directly. It is safe because a process
has a single SQLite connection (``backend.db.make_engine``), so no statement ever waits on
another of the same process; a write of another process (the CLI) can make one wait up to the
busy timeout, blocking the loop for that long.

aiosqlite has no public hook for this: the subclass replaces ``Connection._execute`` (through
which every call goes, as SQLAlchemy's own adapter relies on), and is used only with the
aiosqlite versions it was checked against; any other falls back to the threaded connection.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.engine import make_url

CHECKED_VERSIONS = ("0.20.", "0.21.", "0.22.")


def supported() -> bool:
    """True when this aiosqlite is one whose ``Connection._execute`` we know."""
    return aiosqlite.__version__.startswith(CHECKED_VERSIONS)


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run on the caller's thread (the event loop)."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def connector(url: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    """An ``async_creator`` for ``create_async_engine``: the database of ``url``, opened the way
    SQLAlchemy's aiosqlite dialect would open it, but answering inline."""
    sa_url = make_url(url)
    args, params = sa_url.get_dialect()().create_connect_args(sa_url)
    # opened on aiosqlite's thread, used on ours; a write of another process is waited for 30 s
    params = {**params, "check_same_thread": False, "timeout": 30}

    async def connect() -> aiosqlite.Connection:
        connection = InlineConnection(partial(sqlite3.connect, *args, **params), iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: never keep the process alive
        return await connection

    return connect
