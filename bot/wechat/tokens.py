"""The access token of the Official Account, shared by every server process via the database.

The token comes from ``POST /cgi-bin/stable_token`` (valid ~2 h): in its normal mode every caller
gets the same token while it is valid and a new one in its last 5 minutes, so the hospital's
other systems using the same account do not retire ours. It lives in ``CacheEntry`` under
``wechat:access_token`` (one fetch for all of jiahu's processes) and is fetched again a few
minutes before it expires, or once when WeChat rejects it; only a token rejected although it is
still the one handed out is retired with ``force_refresh`` (WeChat allows that 20 times a day).
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import clock
from backend.db import transaction
from backend.models import CacheEntry

TOKEN_KEY = "wechat:access_token"
REFRESH_MARGIN = timedelta(minutes=4)  # within the last 5 minutes stable_token hands out the next one
INVALID_TOKEN_ERRORS = frozenset({40001, 40014, 42001})

FetchToken = Callable[[bool], Awaitable[tuple[str, int]]]
"""Fetch the token (``True``: force a new one) → (token, lifetime in seconds)."""


def _fresh(expires_at: datetime) -> bool:
    return expires_at - REFRESH_MARGIN > clock.now()


class AccessTokens:
    """Hands out the current access token; refreshes it under a database row lock.

    On PostgreSQL the row is locked (``SELECT … FOR UPDATE``) while one process refreshes, so
    the others wait and then read the new token. On SQLite the write transaction serialises
    writers, which is enough for the few processes SQLite serves.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], fetch: FetchToken) -> None:
        self._sessions = sessions
        self._fetch = fetch
        self._lock = asyncio.Lock()
        self._cached: tuple[str, datetime] | None = None

    async def get(self, *, rejected: str | None = None) -> str:
        """The token to use; ``rejected`` is one WeChat just refused, never to be handed out again."""
        if self._usable(rejected):
            return self._cached[0]  # type: ignore[index]
        async with self._lock:
            if self._usable(rejected):
                return self._cached[0]  # type: ignore[index]
            self._cached = await self._load_or_refresh(rejected)
            return self._cached[0]

    def _usable(self, rejected: str | None) -> bool:
        return (self._cached is not None and self._cached[0] != rejected
                and _fresh(self._cached[1]))

    async def _load_or_refresh(self, rejected: str | None) -> tuple[str, datetime]:
        async with transaction(self._sessions) as session:
            await _ensure_row(session)
            entry = await session.get(CacheEntry, TOKEN_KEY, with_for_update=True,
                                      populate_existing=True)
            assert entry is not None
            if entry.value and entry.value != rejected and _fresh(entry.expires_at):
                return entry.value, entry.expires_at  # another process refreshed it
            token, expires_in = await self._fetch(False)
            if token == rejected:  # WeChat refused the very token it hands out: retire it
                token, expires_in = await self._fetch(True)
            entry.value = token
            entry.expires_at = clock.now() + timedelta(seconds=expires_in)
            return entry.value, entry.expires_at


async def _ensure_row(session: AsyncSession) -> None:
    """Insert an empty, expired row if none exists, so there is always a row to lock."""
    values = {"key": TOKEN_KEY, "value": "", "expires_at": datetime(1970, 1, 1, tzinfo=clock.now().tzinfo),
              "updated_at": clock.now()}
    dialect = session.bind.dialect.name if session.bind is not None else ""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(CacheEntry).values(**values).on_conflict_do_nothing())
