"""Live console pages: server-sent events for a conversation's new messages and for the
转人工 queue, read from the database every ``POLL_SECONDS`` so that every process sees every change.

A conversation's stream continues the page's view of it, recorded once when the stream opens
(``pii.transcript_followed``); the queue's stream shows what the dashboard shows.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp_sse import EventSourceResponse, sse_response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock, conversations, queries
from backend.console import reads
from backend.console.guard import staff
from backend.console.pages import render_html
from backend.db import transaction
from backend.models import ChannelUser, TranscriptEntry
from backend.web.auth import SESSIONS

STREAMS = web.AppKey("console_live_streams", weakref.WeakSet[EventSourceResponse])
POLL_SECONDS = 1.0  # between looks at the database


def setup(app: web.Application) -> None:
    """Register the two streams; open streams end when the server shuts down."""
    app[STREAMS] = weakref.WeakSet()
    app.router.add_get("/console/events", queue_events)
    app.router.add_get(r"/console/conversations/{user_id:\d+}/events", conversation_events)

    async def _stop(app: web.Application) -> None:
        streams = app[STREAMS]
        for stream in list(streams):
            stream.stop_streaming()

    app.on_shutdown.append(_stop)


Look = Callable[[AsyncSession], Awaitable[list[tuple[str, str, str | None]]]]


async def _serve(request: web.Request, look: Look) -> web.StreamResponse:
    """Send what ``look`` finds (event, data, id) every poll until the page goes away."""
    async with sse_response(request, headers={"X-Content-Type-Options": "nosniff"}) as stream:
        request.app[STREAMS].add(stream)
        with contextlib.suppress(ConnectionResetError):  # the page went away while we wrote
            while stream.is_connected():
                async with transaction(request.app[SESSIONS]) as session:
                    events = await look(session)
                for event, data, event_id in events:
                    await stream.send(data, event=event, id=event_id)
                await asyncio.sleep(POLL_SECONDS)
    return stream


async def conversation_events(request: web.Request) -> web.StreamResponse:
    """New messages of one conversation (``message``: the rendered line, whether the family
    wrote it) and who holds it (``holder``), after the message id the page shows last."""
    who = await staff(request, "transcripts:read")
    user_id = int(request.match_info["user_id"])
    last_seen = request.headers.get("Last-Event-ID") or request.query.get("after", "0")
    after = int(last_seen) if last_seen.isdigit() else 0
    async with transaction(request.app[SESSIONS]) as session:
        if await session.get(ChannelUser, user_id) is None:
            raise web.HTTPNotFound(text="没有这个对话")
        await audit.record(session, who.actor, "pii.transcript_followed", f"channel_user:{user_id}",
                           {"after": after})
    holder: list[str | None] = []

    async def look(session: AsyncSession) -> list[tuple[str, str, str | None]]:
        nonlocal after
        found = await _new_messages(session, user_id, after)
        if found:
            after = int(found[-1][2] or after)
        state = await reads.conversation_state(session, user_id)
        now_held = state.taken_over_by if state else None
        if holder and holder[0] != now_held:
            name = (await reads.staff_names(session, {now_held})).get(now_held) if now_held else None
            found.append(("holder", json.dumps({"holder": name}, ensure_ascii=False), None))
        holder[:] = [now_held]
        return found

    return await _serve(request, look)


async def _new_messages(session: AsyncSession, user_id: int, after: int) -> list[tuple[str, str, str | None]]:
    entries = list((await session.execute(select(TranscriptEntry).where(
        TranscriptEntry.channel_user_id == user_id, TranscriptEntry.id > after)
        .order_by(TranscriptEntry.id))).scalars())
    if not entries:
        return []
    with_files = any(e.upload_id or (e.payload or {}).get("upload_ids") for e in entries)
    uploads = await queries.uploads_of_user(session, user_id) if with_files else []
    chosen: dict[int, str] = {}
    if any(e.direction == "in" and (e.payload or {}).get("choice") is not None for e in entries):
        chosen = reads.chosen_labels(await conversations.transcript(session, user_id))
    attached = reads.attachments(entries, uploads)
    authors = await reads.message_authors(session, entries)
    return [("message", json.dumps({
        "html": render_html("_message.html.j2", entry=entry, attached=attached, chosen=chosen, authors=authors),
        "from_family": entry.direction == "in"}, ensure_ascii=False), str(entry.id)) for entry in entries]


async def queue_events(request: web.Request) -> web.StreamResponse:
    """The 转人工 queue as the dashboard renders it (``queue``), sent when it changes: a family
    joins or is taken over, a waiting time or its first-response timer moves on."""
    who = await staff(request, "transcripts:read")
    shown: list[object] = []

    async def look(session: AsyncSession) -> list[tuple[str, str, str | None]]:
        rows = await reads.handoff_inbox(session)
        seen = [(row.request.id, row.family, row.step, row.held_by, row.first_response,
                 int(row.waiting_seconds // 60)) for row in rows]  # what the page shows
        if shown == [seen]:
            return []
        shown[:] = [seen]
        html = render_html("_queue.html.j2", queue=rows, now=clock.now(), who=who)
        waiting = [row.request.id for row in rows if row.held_by is None]
        return [("queue", json.dumps({"html": html, "waiting": waiting}, ensure_ascii=False), None)]

    return await _serve(request, look)
