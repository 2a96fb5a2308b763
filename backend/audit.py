"""The append-only audit log: every state change and every access to personal data, each
entry carrying the hash of the one before (DOMAIN.md: 全程留痕，可查询、可追溯).

The hashes are keyed (HMAC-SHA256 under a key derived from the secret key), so an edited entry
cannot be hidden by recomputing the hashes after it; and the chain is anchored: one signed
``AuditAnchor`` row holds the count, position and hash of the newest entry and is updated with
every append, so removing the newest entries, or all of them, shows too. (Someone who can write
the database *and* kept an old copy of the anchor row can roll both back together; record the
head that ``jiahu audit verify`` prints somewhere else to rule that out.)
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock
from backend.crypto import current_vault
from backend.models import ApiToken, AuditAnchor, AuditEntry, Booking, StaffAccount

GENESIS = "0" * 64
ANCHOR_ID = 1
_LOCK_KEY = 0x6A696168  # "jiah": one writer appends at a time on PostgreSQL


def _body(prev_hash: str, created_at: datetime, actor: str, action: str, subject: str,
          details: dict[str, Any]) -> bytes:
    return json.dumps({"prev": prev_hash, "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
                       "actor": actor, "action": action, "subject": subject, "details": details},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode()


def _keyed_digest(prev_hash: str, created_at: datetime, actor: str, action: str, subject: str,
                  details: dict[str, Any]) -> str:
    return current_vault().audit_mac(_body(prev_hash, created_at, actor, action, subject, details))


def _legacy_digest(prev_hash: str, created_at: datetime, actor: str, action: str, subject: str,
                   details: dict[str, Any]) -> str:
    """Entries written before the chain was keyed (migration 0005) were plain SHA-256."""
    return hashlib.sha256(_body(prev_hash, created_at, actor, action, subject, details)).hexdigest()


def _anchor_signature(entries: int, head_id: int, head_hash: str, keyed_from: int) -> str:
    return current_vault().audit_mac(f"anchor:{entries}:{head_id}:{head_hash}:{keyed_from}".encode())


async def record(session: AsyncSession, actor: str, action: str, subject: str,
                 details: dict[str, Any] | None = None) -> AuditEntry:
    """Append one entry, chained to the last one, and move the anchor, inside the caller's
    transaction."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    last = (await session.execute(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc())
                                  .limit(1))).scalar_one_or_none()
    prev = last or GENESIS
    created = clock.now()
    details = details or {}
    entry = AuditEntry(created_at=created, actor=actor, action=action, subject=subject,
                       details=details, prev_hash=prev,
                       entry_hash=_keyed_digest(prev, created, actor, action, subject, details))
    session.add(entry)
    await session.flush()
    anchor = await session.get(AuditAnchor, ANCHOR_ID, populate_existing=True)
    if anchor is None:  # the first append since the chain was keyed
        count = (await session.execute(select(func.count(AuditEntry.id)))).scalar_one()
        anchor = AuditAnchor(id=ANCHOR_ID, entries=count - 1, keyed_from=entry.id)
        session.add(anchor)
    anchor.entries += 1
    anchor.head_id = entry.id
    anchor.head_hash = entry.entry_hash
    anchor.signature = _anchor_signature(anchor.entries, entry.id, entry.entry_hash, anchor.keyed_from)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    problem: str = ""
    head: str = ""


async def verify(session: AsyncSession) -> Verdict:
    """Recompute the chain and compare its end with the anchor: a changed entry breaks its
    keyed hash, a missing one breaks the links, missing newest entries disagree with the anchor."""
    anchor = await session.get(AuditAnchor, ANCHOR_ID)
    keyed_from = anchor.keyed_from if anchor is not None else 0
    prev = GENESIS
    count = 0
    last: AuditEntry | None = None
    result = await session.stream_scalars(select(AuditEntry).order_by(AuditEntry.id))
    async for entry in result:
        count += 1
        if entry.prev_hash != prev:
            return Verdict(False, count, f"entry {entry.id}: the entry before it is missing or changed")
        digest = _keyed_digest if entry.id >= keyed_from else _legacy_digest
        expected = digest(entry.prev_hash, entry.created_at, entry.actor, entry.action,
                          entry.subject, entry.details)
        if not hmac.compare_digest(expected, entry.entry_hash):
            return Verdict(False, count, f"entry {entry.id}: its content was changed")
        prev = entry.entry_hash
        last = entry
    if anchor is None:
        if count:
            return Verdict(False, count, "the anchor of the chain is missing")
        if await _service_has_history(session):
            return Verdict(False, 0, "the audit log is empty, but staff, tokens or bookings exist: "
                                     "its entries were removed")
        return Verdict(True, 0)
    if not hmac.compare_digest(anchor.signature, _anchor_signature(
            anchor.entries, anchor.head_id, anchor.head_hash, anchor.keyed_from)):
        return Verdict(False, count, "the anchor of the chain was changed")
    if last is None or (anchor.entries, anchor.head_id, anchor.head_hash) != (count, last.id, last.entry_hash):
        return Verdict(False, count, f"the newest entries were removed: the anchor records {anchor.entries} "
                                     f"entries up to entry {anchor.head_id}, the log has {count}")
    return Verdict(True, count, head=f"{last.id}:{last.entry_hash}")


async def _service_has_history(session: AsyncSession) -> bool:
    """Whether anything that is always audited exists (so an empty log cannot be a new one)."""
    for model in (StaffAccount, ApiToken, Booking):
        if (await session.execute(select(model.id).limit(1))).first() is not None:
            return True
    return False
