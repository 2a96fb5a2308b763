"""Channel users, conversation state and the transcript (DOMAIN.md: 全程留痕)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from backend import audit, clock, notify
from backend.db import per_dialect
from backend.models import (
    ChannelUser,
    ConversationNote,
    ConversationState,
    HandoffRequest,
    StaffAccount,
    TranscriptEntry,
)

# How a staff message is marked as a person's in every channel, by the family's language.
STAFF_MARK = {"zh": "【人工客服 {name}】", "en": "[Hotline · {name}] "}

# An outbound message as recorded: its kind, text and payload.
OutboundRecord = tuple[str, str | None, dict[str, Any] | None]

# The hand-off queue's step for a family who mentioned a sign of an emergency (call back first).
RED_FLAG = "red_flag"


# A turn's statements, built once: executed with a dict of values they skip building the
# statement and its cache key anew and go straight to the compiled cache.
_USER = select(ChannelUser).where(ChannelUser.channel == bindparam("channel"),
                                  ChannelUser.external_id == bindparam("external_id"))
_USER_AND_STATE = _USER.add_columns(ConversationState).outerjoin(
    ConversationState, ConversationState.channel_user_id == ChannelUser.id)
_STATE = select(ConversationState).where(ConversationState.channel_user_id == bindparam("user_id"))
_STATE_FOR_UPDATE = _STATE.with_for_update()
_TRANSCRIPT = TranscriptEntry.metadata.tables[TranscriptEntry.__tablename__]
# Core statements on the table, run on the session's connection (no autoflush, no ORM
# bookkeeping): its encrypted columns still go through their TypeDecorators.
_INBOUND = per_dialect(lambda insert: insert(_TRANSCRIPT).on_conflict_do_nothing().returning(_TRANSCRIPT.c.id))
_OUTBOUND = insert(_TRANSCRIPT)
_STATES = ConversationState.metadata.tables[ConversationState.__tablename__]
# SET takes the columns named in the values executed with (flow, step, data, turn, updated_at).
_SAVE_STATE = update(_STATES).where(_STATES.c.channel_user_id == bindparam("user_id"))


async def get_or_create_user(session: AsyncSession, channel: str, external_id: str, *,
                             language: str | None = None, display_name: str | None = None,
                             is_tryout: bool = False) -> ChannelUser:
    """The channel user for (channel, external id), created on first contact. On SQLite the
    conversation state comes in the same statement (``load_state`` then needs none)."""
    key = {"channel": channel, "external_id": external_id}
    if not _locks_rows(session):
        found = (await session.execute(_USER_AND_STATE, key)).first()
        if found is not None:
            if found[1] is not None:  # held here: the session's identity map holds it weakly
                session.info[_LOADED_STATE] = (session.sync_session.get_transaction(), found[1])
            return found[0]
    else:
        user = (await session.execute(_USER, key)).scalar_one_or_none()
        if user is not None:
            return user
    user = ChannelUser(channel=channel, external_id=external_id, language=language or "zh",
                       display_name=display_name, is_tryout=is_tryout)
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError:  # another process created it at the same moment
        return (await session.execute(_USER, key)).scalar_one()
    return user


async def record_inbound(session: AsyncSession, user: ChannelUser, *, kind: str, text: str | None,
                         channel_message_id: str | None, payload: dict[str, Any] | None = None,
                         upload_id: int | None = None) -> TranscriptEntry | None:
    """Record an inbound message; None when this channel message id was already recorded
    (one ``INSERT … ON CONFLICT DO NOTHING RETURNING id``, no savepoint). The entry returned
    is in the session as loaded, so a change to it (an upload linked) is saved at the flush."""
    values = {"channel_user_id": user.id, "channel": user.channel, "direction": "in",
              "channel_message_id": channel_message_id, "kind": kind, "text": text,
              "payload": payload, "upload_id": upload_id, "author": "family", "created_at": clock.now()}
    statement = _INBOUND["postgresql" if _locks_rows(session) else "sqlite"]
    entry_id = (await (await session.connection()).execute(statement, values)).scalar_one_or_none()
    if entry_id is None:
        return None
    entry = TranscriptEntry(id=entry_id, **values)
    make_transient_to_detached(entry)  # what the row holds, without reading it back
    session.add(entry)
    return entry


async def record_outbound(session: AsyncSession, user: ChannelUser, messages: Sequence[OutboundRecord], *,
                          author: str = "bot") -> None:
    """Record outbound messages (kind, text, payload) in one statement, in their order, after
    anything the turn added to the transcript before them."""
    if not messages:
        return
    if session.new:  # written first, as they came first
        await session.flush()
    now = clock.now()
    await (await session.connection()).execute(_OUTBOUND, [
        {"channel_user_id": user.id, "channel": user.channel, "direction": "out",
         "channel_message_id": None, "kind": kind, "text": text, "payload": payload,
         "upload_id": None, "author": author, "created_at": now} for kind, text, payload in messages])


async def replies_to(session: AsyncSession, user: ChannelUser, channel_message_id: str) -> list[TranscriptEntry]:
    """What the bot answered to one inbound message: the turn's outbound entries, written in
    the same transaction right after it (pushed messages are not the bot's answer)."""
    inbound = (await session.execute(select(TranscriptEntry).where(
        TranscriptEntry.channel == user.channel, TranscriptEntry.direction == "in",
        TranscriptEntry.channel_message_id == channel_message_id))).scalar_one_or_none()
    if inbound is None:
        return []
    following = select(func.min(TranscriptEntry.id)).where(
        TranscriptEntry.channel_user_id == user.id, TranscriptEntry.direction == "in",
        TranscriptEntry.id > inbound.id).scalar_subquery()
    query = (select(TranscriptEntry).where(
        TranscriptEntry.channel_user_id == user.id, TranscriptEntry.direction == "out",
        TranscriptEntry.author == "bot", TranscriptEntry.id > inbound.id,
        or_(following.is_(None), TranscriptEntry.id < following)).order_by(TranscriptEntry.id))
    return list((await session.execute(query)).scalars())


async def transcript(session: AsyncSession, user_id: int) -> list[TranscriptEntry]:
    query = (select(TranscriptEntry).where(TranscriptEntry.channel_user_id == user_id)
             .order_by(TranscriptEntry.created_at, TranscriptEntry.id))
    return list((await session.execute(query)).scalars())


async def load_state(session: AsyncSession, user: ChannelUser) -> ConversationState:
    """The user's conversation state, locked for this turn on PostgreSQL (on SQLite the turn's
    transaction holds the database's one write lock)."""
    key = {"user_id": user.id}
    if _locks_rows(session):
        state = (await session.execute(_STATE_FOR_UPDATE, key)).scalar_one_or_none()
    else:  # loaded with the user, as a rule
        transaction, loaded = session.info.pop(_LOADED_STATE, (None, None))
        fresh = loaded is not None and loaded.channel_user_id == user.id and \
            transaction is session.sync_session.get_transaction()
        state = loaded if fresh else await session.get(ConversationState, user.id)
    if state is None:
        state = ConversationState(channel_user_id=user.id, flow=None, step=None, data={}, turn=0)
        try:
            async with session.begin_nested():
                session.add(state)
        except IntegrityError:
            state = (await session.execute(_STATE, key)).scalar_one()
    return state


async def save_state(session: AsyncSession, state: ConversationState) -> None:
    """Write a turn's end state (flow, step, data, turn) in one ``UPDATE``, without the unit of
    work's bookkeeping; the object leaves the session, which has nothing more to write for it."""
    state.updated_at = clock.now()
    await (await session.connection()).execute(_SAVE_STATE, {"user_id": state.channel_user_id, "flow": state.flow,
                                        "step": state.step, "data": state.data, "turn": state.turn,
                                        "updated_at": state.updated_at})
    session.expunge(state)


_LOADED_STATE = "jiahu.conversation_state"


def _locks_rows(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def request_handoff(session: AsyncSession, user: ChannelUser, flow: str | None,
                          step: str | None) -> HandoffRequest:
    """Put the family in the hotline's queue (转人工), once while a request is waiting."""
    query = select(HandoffRequest).where(HandoffRequest.channel_user_id == user.id,
                                         HandoffRequest.status == "waiting")
    existing = (await session.execute(query)).scalar_one_or_none()
    if existing is not None:
        return existing
    request = HandoffRequest(channel_user_id=user.id, flow=flow, step=step)
    session.add(request)
    await session.flush()
    return request


async def staff_name(session: AsyncSession, username: str) -> str:
    """How the family hears of a member of staff: their display name (李敏), else the username."""
    name = (await session.execute(select(StaffAccount.display_name).where(
        StaffAccount.username == username))).scalar_one_or_none()
    return name or username


async def take_over(session: AsyncSession, user_id: int, staff: str) -> ConversationState:
    """A member of staff takes the conversation; the bot stays quiet until released, and the
    family is told a person has joined (人工客服李敏已接入)."""
    user = await session.get_one(ChannelUser, user_id)
    state = await load_state(session, user)
    already = state.taken_over_by == staff
    state.taken_over_by = staff
    for request in (await session.execute(select(HandoffRequest).where(
            HandoffRequest.channel_user_id == user_id, HandoffRequest.status == "waiting"))).scalars():
        request.status = "taken"
    await audit.record(session, staff, "conversation.taken_over", f"channel_user:{user_id}")
    if not already:
        await notify.notify_family(session, user_id, "staff.joined", message="notify.staff_joined",
                                   values={"name": await staff_name(session, staff)}, author=staff)
    return state


async def release(session: AsyncSession, user_id: int, staff: str) -> ConversationState:
    """Hand the conversation back to the bot; the family is told who left."""
    user = await session.get_one(ChannelUser, user_id)
    state = await load_state(session, user)
    state.taken_over_by = None
    await audit.record(session, staff, "conversation.released", f"channel_user:{user_id}")
    await notify.notify_family(session, user_id, "bot.back", message="notify.staff_left",
                               values={"name": await staff_name(session, staff)})
    return state


async def staff_message(session: AsyncSession, user_id: int, staff: str, text: str) -> None:
    """A message written by staff to the family, marked as a person's (【人工客服 李敏】) and
    delivered through their channel."""
    user = await session.get_one(ChannelUser, user_id)
    mark = STAFF_MARK.get(user.language, STAFF_MARK["zh"]).format(name=await staff_name(session, staff))
    await notify.notify_family(session, user_id, "staff.message", text=mark + text, author=staff)
    await audit.record(session, staff, "conversation.staff_message", f"channel_user:{user_id}")


async def add_note(session: AsyncSession, user_id: int, staff: str, text: str) -> ConversationNote:
    """An internal note on the conversation, for colleagues only: never sent to the family."""
    await session.get_one(ChannelUser, user_id)
    note = ConversationNote(channel_user_id=user_id, author=staff, text=text)
    session.add(note)
    await session.flush()
    await audit.record(session, staff, "conversation.note_added", f"channel_user:{user_id}", {"note": note.id})
    return note


async def notes(session: AsyncSession, user_id: int) -> list[ConversationNote]:
    """The conversation's internal notes, oldest first."""
    return list((await session.execute(select(ConversationNote).where(
        ConversationNote.channel_user_id == user_id).order_by(ConversationNote.id))).scalars())


SATISFACTION = ("good", "fair", "poor")


async def rate_handoff(session: AsyncSession, user_id: int, satisfaction: str) -> HandoffRequest | None:
    """The family's answer to the satisfaction question after a hand-off ends, kept on their
    latest request for a person (None when staff had joined without one)."""
    if satisfaction not in SATISFACTION:
        raise ValueError(f"satisfaction must be one of {', '.join(SATISFACTION)}")
    request = (await session.execute(select(HandoffRequest).where(
        HandoffRequest.channel_user_id == user_id, HandoffRequest.status == "taken")
        .order_by(HandoffRequest.id.desc()).limit(1))).scalar_one_or_none()
    if request is not None:
        request.satisfaction, request.rated_at = satisfaction, clock.now()
    await audit.record(session, "family", "handoff.rated", f"channel_user:{user_id}",
                       {"satisfaction": satisfaction, "request": request.id if request else None})
    return request
