"""Durable outboxes: messages to families and events for the hospital's system.

Both are rows written in the same transaction as the change they report, so a restart never
drops one; workers in bot/ deliver them and retry with back-off.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from backend import clock
from backend.models import HospitalEvent, Notification
from backend.settings import get_settings

MAX_ATTEMPTS = 8
MESSAGE_ATTEMPTS = 30
"""A family's message is retried for about a day (back-off capped at an hour) before it is
given up: a channel's outage delays a reply, it does not lose it. Permanent refusals (the family
blocked the bot) are given up at once."""
Outboxed = TypeVar("Outboxed", Notification, HospitalEvent)
Due = Callable[[AsyncSession, int], Awaitable[Sequence[Notification | HospitalEvent]]]


async def notify_family(session: AsyncSession, channel_user_id: int, kind: str, *,
                        text: str | None = None, message: str | None = None,
                        values: dict[str, Any] | None = None, author: str = "system") -> Notification:
    """Queue a message: either literal ``text`` (a member of staff writing) or a message key
    of the family's language with its values (rendered by the deliverer)."""
    payload: dict[str, Any] = {}
    if message:
        payload = {"message": message, "values": values or {}}
    note = Notification(channel_user_id=channel_user_id, kind=kind, text=text, payload=payload or None,
                        author=author)
    session.add(note)
    await session.flush()
    return note


# A turn's replies for a channel that sends through an API, queued with the turn. ``payload``
# holds them as ``replies`` (``Outbound.dump``); every other kind gets its replies rendered once,
# at its first delivery attempt, and stored the same way. ``done`` counts the channel messages
# already sent, so a retry resumes after them and nothing reaches the family twice.
REPLY = "reply"


_NOTIFICATIONS: Table = Notification.__table__  # type: ignore[assignment]
# Built once (with every turn of such a channel; building it costs more than running it), and
# a Core insert: the row is not needed in the turn's session, whose flush would cost as much.
_QUEUE_REPLIES = insert(_NOTIFICATIONS).values(
    kind=REPLY, author="bot",
    **{name: bindparam(name, type_=_NOTIFICATIONS.c[name].type)
       for name in ("channel_user_id", "payload", "held_for", "next_attempt_at")})


async def queue_replies(session: AsyncSession, channel_user_id: int, replies: list[dict[str, Any]], *,
                        message_id: str | None, hold: timedelta = timedelta(0)) -> None:
    """Queue a turn's replies (in the turn's transaction); due after ``hold``. Held replies
    name the message they answer (``held_for``), so that the channel's passive reply can settle
    them without reading any payload (``bot/delivery.settle_held``)."""
    connection = await session.connection()
    await connection.execute(_QUEUE_REPLIES, {
        "channel_user_id": channel_user_id, "payload": {"replies": replies, "done": 0},
        "held_for": message_id if hold > timedelta(0) else None, "next_attempt_at": clock.now() + hold})


async def notify_hospital(session: AsyncSession, event: str, payload: dict[str, Any]) -> HospitalEvent | None:
    """Queue an event for ``JIAHU_HOSPITAL_WEBHOOK_URL`` (nothing when it is not set)."""
    if not get_settings().hospital_webhook_url:
        return None
    item = HospitalEvent(event=event, payload=payload)
    session.add(item)
    await session.flush()
    return item


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at one hour."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


# A signed consent waiting to be rendered and sealed: a job of its own in the notification
# outbox (claimed, retried and settled like a message), never delivered to a family as such.
SEAL_CONSENT = "consent.seal"
# A visit's reminder, due at its time (backend/reminders.py): written for the family only when
# it comes due and the visit still stands.
REMIND_VISIT = "booking.remind"
JOBS = (SEAL_CONSENT, REMIND_VISIT)


async def _due(session: AsyncSession, outbox: type[Outboxed], limit: int, *conditions: Any) -> list[Outboxed]:
    """Pending rows whose time has come, locked so two workers never take the same one."""
    query = (select(outbox).where(outbox.status == "pending", outbox.next_attempt_at <= clock.now(), *conditions)
             .order_by(outbox.id).limit(limit))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list((await session.execute(query)).scalars())


async def due_notifications(session: AsyncSession, limit: int = 20,
                            channel_user_id: int | None = None) -> list[Notification]:
    """Messages due, only the first waiting one of each conversation: a family gets its
    messages in the order they were queued, a later one never overtaking one being retried."""
    earlier = aliased(Notification)
    first_waiting = ~select(earlier.id).where(
        earlier.channel_user_id == Notification.channel_user_id, earlier.status == "pending",
        earlier.kind.not_in(JOBS), earlier.id < Notification.id).exists()
    conditions = [Notification.kind.not_in(JOBS), first_waiting]
    if channel_user_id is not None:
        conditions.append(Notification.channel_user_id == channel_user_id)
    return await _due(session, Notification, limit, *conditions)


async def due_seal_jobs(session: AsyncSession, limit: int = 5,
                        queued_before: datetime | None = None) -> list[Notification]:
    """Consents to seal; with ``queued_before``, only those queued before then."""
    conditions = [Notification.kind == SEAL_CONSENT]
    if queued_before is not None:
        conditions.append(Notification.created_at < queued_before)
    return await _due(session, Notification, limit, *conditions)


async def due_reminder_jobs(session: AsyncSession, limit: int = 20) -> list[Notification]:
    return await _due(session, Notification, limit, Notification.kind == REMIND_VISIT)


async def due_hospital_events(session: AsyncSession, limit: int = 20) -> list[HospitalEvent]:
    return await _due(session, HospitalEvent, limit)


def mark_failed(item: Notification | HospitalEvent, error: str, *, permanent: bool = False) -> None:
    """Record a failed attempt: retried later with back-off, or given up when ``permanent`` or
    after too many attempts."""
    item.attempts += 1
    item.last_error = error[:500]
    attempts = MESSAGE_ATTEMPTS if isinstance(item, Notification) and item.kind not in JOBS else MAX_ATTEMPTS
    if permanent or item.attempts >= attempts:
        item.status = "failed"
    else:
        item.next_attempt_at = clock.now() + backoff(item.attempts)
