"""Conversations for the hotline: find them, read them (recorded), take them over, write to the
family, hand them back to the bot; and the queue of families asking for a person (转人工)."""
from __future__ import annotations

from backend import audit, clock, conversations
from backend.models import ChannelUser, ConversationState
from backend.queries import (
    age_of,
    handoff_queue,
    patient_of_user,
    read_transcript,
    search_conversations,
)

from .privacy import patient_out, redact
from .routing import Call, not_found, route
from .schemas import (
    ConversationControl,
    ConversationFilter,
    ConversationList,
    ConversationOut,
    HandoffList,
    HandoffOut,
    MessageQueued,
    NoteBody,
    NoteList,
    NoteOut,
    StaffMessageBody,
    Transcript,
    TranscriptEntryOut,
)

USER = "{user_id:\\d{1,9}}"


async def _user(call: Call) -> ChannelUser:
    user = await call.session.get(ChannelUser, call.int_arg("user_id"))
    if user is None:
        raise not_found("conversation")
    return user


@route("GET", "/api/conversations", scope="transcripts:read", tag="conversations", query=ConversationFilter,
       answer=ConversationList, errors=(400,))
async def search(call: Call) -> ConversationList:
    """Conversations by applicant, patient or present person's name, any phone, ID number or its last four, booking number, channel and date."""
    query = call.query_as(ConversationFilter)
    rows = await search_conversations(call.session, q=query.q, channel=query.channel, day=query.date)
    # The search words may be an ID number or a phone: record that a search happened, not what.
    await audit.record(call.session, call.actor, "pii.conversations_searched", "conversations",
                       {"results": len(rows), "by_text": bool(query.q)})
    return ConversationList(conversations=[ConversationOut(
        user_id=r.user.id, channel=r.user.channel, display_name=r.user.display_name,
        last_message_at=r.last_message_at, patient_names=r.patient_names, booking_numbers=r.booking_numbers,
        taken_over_by=r.taken_over_by, waiting_for_human=r.waiting_for_human) for r in rows])


@route("GET", f"/api/conversations/{USER}", scope="transcripts:read", tag="conversations",
       answer=Transcript, errors=(404,))
async def transcript(call: Call) -> Transcript:
    """The whole conversation and its patient; the reading is recorded in the audit log."""
    user = await _user(call)
    entries = await read_transcript(call.session, user.id, call.actor)
    patient = await patient_of_user(call.session, user.id, call.actor)
    state = await call.session.get(ConversationState, user.id)
    today = clock.today()
    return Transcript(
        user_id=user.id, channel=user.channel, display_name=user.display_name,
        taken_over_by=state.taken_over_by if state else None,
        patient=patient_out(call.who, patient, today) if patient else None,
        entries=[TranscriptEntryOut(id=e.id, at=e.created_at, direction=e.direction,  # type: ignore[arg-type]
                                    kind=e.kind, text=redact(call.who, e.text), author=e.author,
                                    upload_id=e.upload_id) for e in entries])


@route("POST", f"/api/conversations/{USER}/takeover", scope="transcripts:write", tag="conversations",
       answer=ConversationControl, errors=(404,))
async def take_over(call: Call) -> ConversationControl:
    """Take the conversation over: the bot stays quiet until it is released."""
    user = await _user(call)
    state = await conversations.take_over(call.session, user.id, call.actor)
    return ConversationControl(user_id=user.id, taken_over_by=state.taken_over_by)


@route("POST", f"/api/conversations/{USER}/release", scope="transcripts:write", tag="conversations",
       answer=ConversationControl, errors=(404,))
async def release(call: Call) -> ConversationControl:
    """Hand the conversation back to the bot; the family is told."""
    user = await _user(call)
    state = await conversations.release(call.session, user.id, call.actor)
    return ConversationControl(user_id=user.id, taken_over_by=state.taken_over_by)


@route("POST", f"/api/conversations/{USER}/messages", scope="transcripts:write", tag="conversations",
       body=StaffMessageBody, answer=MessageQueued, status=202, errors=(400, 404))
async def message(call: Call) -> MessageQueued:
    """Write to the family; the message is delivered through their channel."""
    user = await _user(call)
    await conversations.staff_message(call.session, user.id, call.actor, call.body_as(StaffMessageBody).text)
    return MessageQueued(user_id=user.id, queued=True)


@route("GET", f"/api/conversations/{USER}/notes", scope="transcripts:read", tag="conversations",
       answer=NoteList, errors=(404,))
async def notes(call: Call) -> NoteList:
    """The conversation's internal notes, oldest first; the reading is recorded."""
    user = await _user(call)
    found = await conversations.notes(call.session, user.id)
    await audit.record(call.session, call.actor, "pii.notes_viewed", f"channel_user:{user.id}", {"notes": len(found)})
    return NoteList(notes=[NoteOut(id=n.id, author=n.author, text=n.text, created_at=n.created_at) for n in found])


@route("POST", f"/api/conversations/{USER}/notes", scope="transcripts:write", tag="conversations",
       body=NoteBody, answer=NoteOut, status=201, errors=(400, 404))
async def add_note(call: Call) -> NoteOut:
    """Add an internal note for colleagues; the family never sees it."""
    user = await _user(call)
    note = await conversations.add_note(call.session, user.id, call.actor, call.body_as(NoteBody).text)
    return NoteOut(id=note.id, author=note.author, text=note.text, created_at=note.created_at)


@route("GET", "/api/handoffs", scope="transcripts:read", tag="conversations", answer=HandoffList)
async def handoffs(call: Call) -> HandoffList:
    """Families waiting for a person, oldest first."""
    rows = await handoff_queue(call.session)
    return HandoffList(handoffs=[HandoffOut(
        id=r.id, user_id=u.id, channel=u.channel, display_name=u.display_name, flow=r.flow, step=r.step,
        created_at=r.created_at, waiting_minutes=int(age_of(r.created_at).total_seconds() // 60))
        for r, u in rows])
