"""Freshness and replay protection of WeChat's pushes.

WeChat signs a push with ``sha1(token, timestamp, nonce)``: the signature does not cover the
body, so a triple read from a log would sign any message. A push is accepted only when its
timestamp is recent (by the service clock) and its triple is new, or was seen before with the
same body (WeChat's own retry of the message). Seen triples live in the shared ``CacheEntry``
table, so every process of a deployment refuses a replay another one accepted first.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import clock
from backend.db import transaction
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


async def first_or_retry(sessions: async_sessionmaker[AsyncSession], signature: str,
                         timestamp: str, nonce: str, body: bytes) -> bool:
    """Remember this signed push; False when its triple was already used for another body."""
    key = SEEN_PREFIX + _sha256(f"{signature}:{timestamp}:{nonce}".encode())
    digest = _sha256(body)
    now = clock.now()
    async with transaction(sessions) as session:
        connection = await session.connection()  # Core statements: one short write per push
        if _sweep_due(now):
            await connection.execute(delete(CacheEntry).where(CacheEntry.key.startswith(SEEN_PREFIX),
                                                              CacheEntry.expires_at < now))
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        # kept past the freshness window on both sides, so a triple is never forgotten while usable
        added = await connection.execute(insert(CacheEntry).values(
            key=key, value=digest, expires_at=now + 2 * MAX_AGE + timedelta(minutes=1), updated_at=now)
            .on_conflict_do_nothing())
        if added.rowcount == 1:
            return True
        seen = await connection.scalar(select(CacheEntry.value).where(CacheEntry.key == key))
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
