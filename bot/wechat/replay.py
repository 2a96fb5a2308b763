"""Freshness and replay protection of WeChat's pushes.

WeChat signs a push with ``sha1(token, timestamp, nonce)``: the signature does not cover the
body, so a triple read from a log would sign any message. A push is accepted only when its
timestamp is recent (by the service clock) and its triple is new, or was seen before with the
same body (WeChat's own retry of the message). Seen triples live in the shared ``CacheEntry``
table, so every process of a deployment refuses a replay another one accepted first.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import clock
from backend.db import insert_values, per_dialect
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
_NOW = bindparam("now", type_=_ENTRIES.c["expires_at"].type)


_REMEMBER = per_dialect(lambda insert: insert_values(
    insert, _ENTRIES, "key", "value", "expires_at", "updated_at").on_conflict_do_nothing())
_SEEN = select(_ENTRIES.c["key"], _ENTRIES.c["value"]).where(
    _ENTRIES.c["key"].in_(bindparam("keys", expanding=True)))
_SWEEP = delete(_ENTRIES).where(_ENTRIES.c["key"].startswith(SEEN_PREFIX), _ENTRIES.c["expires_at"] < _NOW)


@dataclass(frozen=True)
class Push:
    """What a push is remembered by: its signature triple and its body."""

    signature: str
    timestamp: str
    nonce: str
    body: bytes

    @property
    def key(self) -> str:
        return SEEN_PREFIX + _sha256(f"{self.signature}:{self.timestamp}:{self.nonce}".encode())


async def remember(connection: AsyncConnection, pushes: list[Push]) -> list[bool]:
    """Remember these signed pushes (in the caller's transaction); for each, False when its
    triple was already used for another body."""
    now = clock.now()
    if _sweep_due(now):
        await connection.execute(_SWEEP, {"now": now})
    keys = [push.key for push in pushes]
    digests = [_sha256(push.body) for push in pushes]
    # kept past the freshness window on both sides, so a triple is never forgotten while usable
    expires_at = now + 2 * MAX_AGE + timedelta(minutes=1)
    added = await connection.execute(_REMEMBER[connection.dialect.name], [
        {"key": key, "value": digest, "expires_at": expires_at, "updated_at": now}
        for key, digest in zip(keys, digests, strict=True)])
    if added.rowcount == len(pushes):  # all new (the usual case): nothing to compare
        return [True] * len(pushes)
    seen: dict[str, str] = {key: value for key, value in await connection.execute(_SEEN, {"keys": keys})}
    return [seen.get(key) == digest for key, digest in zip(keys, digests, strict=True)]


_next_sweep: datetime | None = None


def _sweep_due(now: datetime) -> bool:
    """Expired triples are deleted once a minute (per process), not with every push: the
    deletion scans the table, which holds every push of the last eleven minutes."""
    global _next_sweep
    if _next_sweep is not None and now < _next_sweep:
        return False
    _next_sweep = now + SWEEP_INTERVAL
    return True
