"""The append-only audit log: every state change and every access to personal data, each
entry carrying the hash of the one before (DOMAIN.md: 全程留痕，可查询、可追溯)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.models import AuditEntry

GENESIS = "0" * 64
_LOCK_KEY = 0x6A696168  # "jiah": one writer appends at a time on PostgreSQL


def _digest(prev_hash: str, created_at: datetime, actor: str, action: str, subject: str,
            details: dict[str, Any]) -> str:
    body = json.dumps({"prev": prev_hash, "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
                       "actor": actor, "action": action, "subject": subject, "details": details},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


async def record(session: AsyncSession, actor: str, action: str, subject: str,
                 details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry, chained to the last one, inside the caller's transaction."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = (await session.execute(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc())
                                  .limit(1))).scalar_one_or_none()
    prev = last or GENESIS
    created = clock.now()
    details = details or {}
    entry = AuditEntry(created_at=created, actor=actor, action=action, subject=subject,
                       details=details, prev_hash=prev,
                       entry_hash=_digest(prev, created, actor, action, subject, details))
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    problem: str = ""


async def verify(session: AsyncSession) -> Verdict:
    """Recompute the chain: a changed entry breaks its hash, a missing one breaks the links."""
    prev = GENESIS
    count = 0
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.id))
    async for entry in result:
        count += 1
        if entry.prev_hash != prev:
            return Verdict(False, count, f"entry {entry.id}: the entry before it is missing or changed")
        expected = _digest(entry.prev_hash, entry.created_at, entry.actor, entry.action,
                           entry.subject, entry.details)
        if expected != entry.entry_hash:
            return Verdict(False, count, f"entry {entry.id}: its content was changed")
        prev = entry.entry_hash
    return Verdict(True, count)
