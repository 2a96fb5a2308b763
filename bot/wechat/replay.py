"""Freshness and replay protection of WeChat's pushes.

WeChat signs a push with ``sha1(token, timestamp, nonce)``: the signature does not cover the
body, so a triple read from a log would sign any message. A push is accepted only when its
timestamp is recent (by the service clock) and its triple is new, or was seen before with the
same body (WeChat's own retry of the message). Seen triples live in the shared ``CacheEntry``
table, so every process of a deployment refuses a replay another one accepted first.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from backend import clock
from backend.models import CacheEntry

MAX_AGE = timedelta(minutes=5)
"""How far a push's timestamp may be from the service clock (either way)."""
SEEN_PREFIX = "wechat:seen:"
SWEEP_INTERVAL = timedelta(minutes=1)


def is_fresh(timestamp: str) -> bool:
    """True when ``timestamp`` (Unix seconds, as WeChat sends it) is within ``MAX_AGE`` of now."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    return abs(clock.timestamp() - sent) <= MAX_AGE.total_seconds()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_ENTRIES: Table = CacheEntry.__table__  # type: ignore[assignment]
_KEY = bindparam("key", type_=_ENTRIES.c["key"].type)
_NOW = bindparam("now", type_=_ENTRIES.c["expires_at"].type)


def _remembering(insert: Callable[[Table], Any]) -> Any:
    columns = _ENTRIES.c
    return insert(_ENTRIES).values(
        key=_KEY, value=bindparam("value", type_=columns["value"].type),
        expires_at=bindparam("expires_at", type_=columns["expires_at"].type),
        updated_at=bindparam("updated_at", type_=columns["updated_at"].type)).on_conflict_do_nothing()


# Built once (building a statement costs more than SQLite takes to run it), one per dialect.
_REMEMBER = {"postgresql": _remembering(postgresql.insert), "sqlite": _remembering(sqlite.insert)}
_SEEN = select(_ENTRIES.c["value"]).where(_ENTRIES.c["key"] == _KEY)
_SWEEP = delete(_ENTRIES).where(_ENTRIES.c["key"].startswith(SEEN_PREFIX), _ENTRIES.c["expires_at"] < _NOW)


async def first_or_retry(db: AsyncEngine, signature: str, timestamp: str, nonce: str, body: bytes) -> bool:
    """Remember this signed push; False when its triple was already used for another body."""
    key = SEEN_PREFIX + _sha256(f"{signature}:{timestamp}:{nonce}".encode())
    digest = _sha256(body)
    now = clock.now()
    async with db.begin() as connection:  # Core statements: one short write per push
        if _sweep_due(now):
            await connection.execute(_SWEEP, {"now": now})
        # kept past the freshness window on both sides, so a triple is never forgotten while usable
        added = await connection.execute(_REMEMBER[connection.dialect.name], {
            "key": key, "value": digest, "expires_at": now + 2 * MAX_AGE + timedelta(minutes=1),
            "updated_at": now})
        if added.rowcount == 1:
            return True
        seen = await connection.scalar(_SEEN, {"key": key})
        return seen == digest


_next_sweep: datetime | None = None


def _sweep_due(now: datetime) -> bool:
    """Expired triples are deleted once a minute (per process), not with every push: the
    deletion scans the table, which holds every push of the last eleven minutes."""
    global _next_sweep
    if _next_sweep is not None and now < _next_sweep:
        return False
    _next_sweep = now + SWEEP_INTERVAL
    return True
