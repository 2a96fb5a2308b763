"""Delivery of the notification outbox to families: a turn's queued replies and every
notification, through the channel's sender, in order per conversation.

A row is claimed for a lease (no transaction is held while the channel is called), its replies
are rendered once and stored with it (a stored file by reference: its bytes are read for each
attempt, and the row stays small to claim, load and settle), and every channel message accepted
is counted in the row at once, so a retry resumes after it: a 500 or a dropped connection delays
a reply, a crash after the turn's commit only delays it too, and nothing reaches a family twice. A permanent
refusal (``Undeliverable``) is recorded and given up; anything else is retried with back-off.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import structlog
from sqlalchemy import Table, and_, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from backend import clock, notify
from backend.db import transaction
from backend.models import Artefact, ChannelUser, Notification
from backend.storage import read_decrypted
from bot.base import Progress, Undeliverable
from bot.runtime import Runtime
from flows.types import Outbound

log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=5)  # a claimed row is retried after this if its worker died


@dataclass
class _Loaded:
    channel: str
    external_id: str
    replies: list[Outbound]
    done: int


async def _claim(runtime: Runtime, limit: int, channel_user_id: int | None = None) -> list[int]:
    async with transaction(runtime.sessions) as session:
        rows = await notify.due_notifications(session, limit, channel_user_id)
        for row in rows:
            row.next_attempt_at = clock.now() + LEASE
            if row.held_for is not None:  # its hold is over: a passive answer is too late
                row.held_for = None
        return [row.id for row in rows]


async def _load(runtime: Runtime, note_id: int) -> _Loaded:
    """The row's replies: rendered (and recorded in the transcript) at the first attempt only."""
    async with transaction(runtime.sessions) as session:
        note = await session.get_one(Notification, note_id)
        user = await session.get_one(ChannelUser, note.channel_user_id)
        payload = dict(note.payload or {})
        if "replies" not in payload:
            rendered = await runtime.engine.push(session, user, note)
            payload.update(replies=[reply.dump() for reply in rendered], done=0)
            note.payload = payload
        return _Loaded(user.channel, user.external_id,
                       [Outbound.load(reply) for reply in payload["replies"]], int(payload.get("done", 0)))


async def _with_files(runtime: Runtime, replies: list[Outbound]) -> list[Outbound]:
    """The replies with the bytes of the stored files they name (the sealed consent)."""
    wanted = {reply.artefact_id for reply in replies if reply.artefact_id is not None and reply.data is None}
    if not wanted:
        return replies
    async with runtime.sessions() as session:
        rows = await session.execute(select(Artefact.id, Artefact.storage_path).where(Artefact.id.in_(wanted)))
        paths = {artefact_id: path for artefact_id, path in rows}
    if wanted - paths.keys():  # erased since (a data request): there is nothing left to send
        raise Undeliverable(f"stored file {min(wanted - paths.keys())} no longer exists")
    data = {artefact_id: await read_decrypted(path) for artefact_id, path in paths.items()}
    return [replace(reply, data=data[reply.artefact_id]) if reply.artefact_id in wanted else reply
            for reply in replies]


def _recorder(runtime: Runtime, note_id: int):  # type: ignore[no-untyped-def]
    async def record(done: int) -> None:
        async with transaction(runtime.sessions) as session:
            note = await session.get_one(Notification, note_id)
            note.payload = {**(note.payload or {}), "done": done}

    return record


async def _settle(runtime: Runtime, note_id: int, error: str | None, *, permanent: bool = False) -> None:
    async with transaction(runtime.sessions) as session:
        note = await session.get_one(Notification, note_id)
        if error is None:
            note.status, note.sent_at = "sent", clock.now()
        else:
            notify.mark_failed(note, error, permanent=permanent)


async def deliver_one(runtime: Runtime, note_id: int) -> bool:
    """Send one claimed row; True when it went out in full."""
    try:
        loaded = await _load(runtime, note_id)
        sender = runtime.senders.get(loaded.channel)
        if sender is not None:  # channels without push show it from the transcript
            await sender(loaded.external_id, await _with_files(runtime, loaded.replies),
                         Progress(loaded.done, _recorder(runtime, note_id)))
    except Undeliverable as refused:
        log.warning("delivery.refused", id=note_id, error=str(refused))
        await _settle(runtime, note_id, str(refused), permanent=True)
        return False
    except Exception as error:  # noqa: BLE001 - recorded and retried with back-off
        log.warning("delivery.failed", id=note_id, error=str(error))
        await _settle(runtime, note_id, str(error) or type(error).__name__)
        return False
    await _settle(runtime, note_id, None)
    return True


async def deliver_due(runtime: Runtime, limit: int = 20) -> int:
    """Deliver what is due (the background worker); returns how many rows went out."""
    sent = tried = 0
    while tried < limit:  # a conversation's next message becomes due once the one before went out
        claimed = await _claim(runtime, limit - tried)
        if not claimed:
            break
        tried += len(claimed)
        for note_id in claimed:
            sent += await deliver_one(runtime, note_id)
    return sent


async def _user_id(runtime: Runtime, channel: str, external_id: str) -> int | None:
    async with runtime.sessions() as session:
        return await session.scalar(select(ChannelUser.id).where(
            ChannelUser.channel == channel, ChannelUser.external_id == external_id))


async def flush(runtime: Runtime, channel: str, external_id: str) -> None:
    """Deliver a conversation's due rows now, in order, right after its turn; stops at the first
    failure (the worker retries it later, and nothing queued after it overtakes it)."""
    user_id = await _user_id(runtime, channel, external_id)
    while user_id is not None:
        claimed = await _claim(runtime, 1, user_id)
        if not claimed or not await deliver_one(runtime, claimed[0]):
            return


_NOTES: Table = Notification.__table__  # type: ignore[assignment]
# Built once (constructing a statement costs more than running it): the replies held for
# inbound messages. Message ids are unique per channel account (WeChat: the MsgId, or the
# sender's openid, time and event), and only held replies carry one.
_HELD = and_(_NOTES.c.held_for.in_(bindparam("message_ids", expanding=True)), _NOTES.c.kind == notify.REPLY,
             _NOTES.c.status == "pending")
_NOW = bindparam("now", type_=_NOTES.c.sent_at.type)
_SENT_PASSIVELY = update(_NOTES).where(_HELD).values(status="sent", sent_at=_NOW)
_DUE_NOW = update(_NOTES).where(_HELD).values(held_for=None, next_attempt_at=_NOW)


async def settle_held(connection: AsyncConnection, message_ids: list[str], *, passive: bool) -> int:
    """The replies held for a passive reply to these inbound messages: settled as sent when they
    went out as the answer to the channel's request itself (WeChat's passive reply; ``held_for``
    stays on the row as the mark of it), else due now. Returns how many rows were settled."""
    result = await connection.execute(_SENT_PASSIVELY if passive else _DUE_NOW,
                                      {"message_ids": message_ids, "now": clock.now()})
    log.debug("delivery.passive" if passive else "delivery.released", rows=result.rowcount)
    return result.rowcount
