"""WeChat's customer-service window, per family: each message a family sends (a text, a menu
click, following or scanning the account) opens 48 hours in which the account may send them at
most 5 customer-service messages. The count lives in the shared ``CacheEntry`` table (every
process spends from the same budget), keyed by the family's channel user, never by the openid.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.db import insert_values, per_dialect
from backend.models import CacheEntry

WINDOW = timedelta(hours=48)
MESSAGES = 5
PREFIX = "wechat:window:"


@dataclass(frozen=True)
class Window:
    """Until when the window is open and how many messages it still allows."""

    until: datetime
    left: int

    @property
    def open(self) -> bool:
        return self.until > clock.now() and self.left > 0


def _key(channel_user_id: int) -> str:
    return f"{PREFIX}{channel_user_id}"


def _opening(insert: Callable[[Table], Any]) -> Any:
    """The upsert of a fresh window."""
    statement = insert_values(insert, _ENTRIES, "key", "value", "expires_at", "updated_at")
    return statement.on_conflict_do_update(
        index_elements=[_ENTRIES.c["key"]],
        set_={"value": statement.excluded.value, "expires_at": statement.excluded.expires_at,
              "updated_at": statement.excluded.updated_at})


_ENTRIES: Table = CacheEntry.__table__  # type: ignore[assignment]
_OPEN = per_dialect(_opening)


async def opened(session: AsyncSession, channel_user_id: int) -> None:
    """The family wrote: a fresh window of ``MESSAGES`` messages for ``WINDOW``."""
    now = clock.now()
    connection = await session.connection()
    await connection.execute(_OPEN[connection.dialect.name], {
        "key": _key(channel_user_id), "value": str(MESSAGES), "expires_at": now + WINDOW, "updated_at": now})


async def current(session: AsyncSession, channel_user_id: int) -> Window | None:
    """The family's window, or None when jiahu never saw it open (WeChat then decides)."""
    entry = await session.get(CacheEntry, _key(channel_user_id), populate_existing=True)
    if entry is None:
        return None
    return Window(entry.expires_at, int(entry.value) if entry.expires_at > clock.now() else 0)


async def spend(session: AsyncSession, channel_user_id: int) -> None:
    """One customer-service message went out."""
    entry = await session.get(CacheEntry, _key(channel_user_id), with_for_update=True, populate_existing=True)
    if entry is not None:
        entry.value = str(max(int(entry.value) - 1, 0))
