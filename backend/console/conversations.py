"""对话记录: find a conversation, read it with its uploads, take it over, write, hand it back, export."""
from __future__ import annotations

from datetime import date
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.exc import NoResultFound
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, canned, conversations, queries, service_window
from backend.api import conversations as api
from backend.api.routing import Handler
from backend.bookings import ACTIVE_STATES, bookings_of_user
from backend.config import hospital_config
from backend.console import actions, reads
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import HEADERS, render, see_other
from backend.console.transcript_pdf import transcript_pdf
from backend.db import transaction
from backend.models import ChannelUser, Patient, TranscriptEntry, Upload
from backend.web.auth import SESSIONS, Principal


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def search(request: web.Request) -> web.Response:
    who = await staff(request, "transcripts:read")
    q = request.query.get("q", "").strip()
    channel = request.query.get("channel", "")
    day = _day(request.query.get("day", ""))
    async with transaction(request.app[SESSIONS]) as session:
        rows = await queries.search_conversations(session, q=q, channel=channel or None, day=day)
        if rows:
            await reads.record_listing(session, who.actor, "conversations", len(rows))
    return render(request, who, "conversations.html.j2", rows=rows, q=q, channel=channel,
                  day=day.isoformat() if day else "")


async def _read(session: AsyncSession, user_id: int, actor: str) -> tuple[
        ChannelUser, list[TranscriptEntry], Patient | None, list[Upload]]:
    """A conversation with its patient and uploads, read with access records; 404 if unknown."""
    user = await session.get(ChannelUser, user_id)
    if user is None:
        raise web.HTTPNotFound(text="没有这个对话")
    entries = await queries.read_transcript(session, user_id, actor)
    patient = await queries.patient_of_user(session, user_id, actor)
    return user, entries, patient, await queries.uploads_of_user(session, user_id)


async def conversation(request: web.Request) -> web.Response:
    who = await staff(request, "transcripts:read")
    return await _page(request, who, int(request.match_info["user_id"]))


async def reveal_phone(request: web.Request) -> web.Response:
    """显示完整号码: the patient's phone in full for a call back, recorded in the access log."""
    who, _ = await staff_form(request, "transcripts:read")
    return await _page(request, who, int(request.match_info["user_id"]), reveal=True)


async def _page(request: web.Request, who: Principal, user_id: int, *, reveal: bool = False) -> web.Response:
    async with transaction(request.app[SESSIONS]) as session:
        user, entries, patient, uploads = await _read(session, user_id, who.actor)
        if reveal and patient is not None and patient.phone:
            await audit.record(session, who.actor, "pii.phone_revealed", f"patient:{patient.id}",
                               {"channel_user": user_id})
        state = await reads.conversation_state(session, user_id)
        waiting = await reads.waiting_handoff(session, user_id)
        booked = await bookings_of_user(session, user_id)
        holder = state.taken_over_by if state else None
        holder_name = (await reads.staff_names(session, {holder})).get(holder) if holder else None
        intake_id = await queries.assessed_intake_of_user(session, user_id)
        assessment = await queries.assessment_of_intake(session, intake_id) if intake_id else None
        intake_uploads = await queries.uploads_of_intake(session, intake_id) if intake_id else []
        authors = await reads.message_authors(session, entries)
        notes = await conversations.notes(session, user_id)
        note_authors = await reads.staff_names(session, {note.author for note in notes})
        window = await service_window.current(session, user_id) if user.channel == "wechat" else None
    active = [slot for booking, slot in booked if booking.status in ACTIVE_STATES]
    replies = canned.filled(user.language, staff_name=who.display_name or who.actor,
                            hotline=hospital_config().hospital.hotline,
                            patient_name=patient.name if patient else None,
                            slot=min(active, key=lambda s: (s.day, s.start)) if active else None)
    return render(request, who, "conversation.html.j2", user=user, entries=entries, patient=patient,
                  uploads=uploads, attached=reads.attachments(entries, uploads), chosen=reads.chosen_labels(entries), taken_over_by=holder_name,
                  phone_revealed=reveal, service_window=window,
                  waiting=waiting, bookings=booked, assessment=assessment,
                  intake_uploads=intake_uploads if who.can("uploads:read") else [],
                  canned=replies, notes=notes, note_authors=note_authors, authors=authors)


async def take_over(request: web.Request) -> web.Response:
    """接管对话 (the API's take-over route)."""
    user_id = request.match_info["user_id"]
    await _act(request, api.take_over)
    raise see_other(f"/console/conversations/{user_id}", "taken")


async def message(request: web.Request) -> web.Response:
    """发送 (the API's message route); an empty message sends nothing."""
    return await _post_text(request, api.message, field="text", anchor="", done="sent")


async def note(request: web.Request) -> web.Response:
    """内部备注 (the API's note route): for colleagues; the family never sees it."""
    return await _post_text(request, api.add_note, field="note", anchor="#notes", done="noted")


async def _post_text(request: web.Request, handler: Handler, *, field: str, anchor: str, done: str) -> web.Response:
    """A text the form sends to one of the API's routes: back to the conversation, with ``done``
    shown when it was taken; an empty text does nothing."""
    page = f"/console/conversations/{request.match_info['user_id']}{anchor}"
    try:
        await actions.act(request, handler, fields=lambda form: {"text": text_field(form, field)[:2000]})
    except actions.Refused as refused:
        if refused.status != 400:
            raise web.HTTPNotFound(text="没有这个对话") from None
        raise see_other(page) from None
    raise see_other(page, done)


async def release(request: web.Request) -> web.Response:
    """交还机器人 (the API's release route)."""
    user_id = request.match_info["user_id"]
    await _act(request, api.release)
    raise see_other(f"/console/conversations/{user_id}", "released")


async def _act(request: web.Request, handler: Handler) -> None:
    try:
        await actions.act(request, handler)
    except actions.Refused:
        raise web.HTTPNotFound(text="没有这个对话") from None


async def export_pdf(request: web.Request) -> web.Response:
    """The conversation as a PDF for the file (an export is recorded on top of the view)."""
    who = await staff(request, "transcripts:read")
    user_id = int(request.match_info["user_id"])
    async with transaction(request.app[SESSIONS]) as session:
        user, entries, patient, uploads = await _read(session, user_id, who.actor)
        await audit.record(session, who.actor, "pii.transcript_exported", f"channel_user:{user_id}",
                           {"entries": len(entries)})
    pdf = await transcript_pdf(user=user, entries=entries, patient=patient,
                               attached=reads.attachments(entries, uploads),
                               exported_by=who.display_name or who.actor)
    name = f"对话记录-{user_id}.pdf"
    return web.Response(body=pdf, content_type="application/pdf", headers={
        **HEADERS, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


async def upload(request: web.Request) -> web.Response:
    """An uploaded file, decrypted on the fly; every opening is recorded."""
    who = await staff(request, "uploads:read")
    upload_id = int(request.match_info["upload_id"])
    download = request.query.get("download") == "1"
    async with transaction(request.app[SESSIONS]) as session:
        try:
            found, data = await queries.open_upload(session, upload_id, who.actor,
                                                    "download" if download else "view")
        except (NoResultFound, FileNotFoundError) as error:
            raise web.HTTPNotFound(text="文件不存在") from error
    disposition = "attachment" if download or not found.content_type.startswith("image/") else "inline"
    name = found.filename or f"upload-{found.id}"
    return web.Response(body=data, content_type=found.content_type, headers={
        **HEADERS, "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}"})
