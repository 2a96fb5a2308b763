"""工作台: what needs someone now — the 转人工 queue, late visits, alarms, new bookings, complaints,
personal-data requests; an alarm is marked handled here."""
from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.exc import NoResultFound

from backend import clock, queries, visits
from backend.bookings import BadTransition
from backend.console import reads
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.web.auth import SESSIONS


async def dashboard(request: web.Request) -> web.Response:
    who = await staff(request)
    context: dict[str, Any] = {"queue": [], "overdue": [], "alarms": [], "alarm_bookings": {},
                                  "new_bookings": [], "complaints": [], "data_requests": (0, 0),
                                  "now": clock.now()}
    async with transaction(request.app[SESSIONS]) as session:
        context["counts"] = await reads.counts(session)
        if who.can("transcripts:read"):
            context["queue"] = await reads.handoff_inbox(session)
        if who.can("bookings:read"):
            context["overdue"] = await visits.overdue(session)  # also raises the 延时预警 once
            alarms = await visits.open_alarms(session)
            context["alarms"] = alarms
            context["alarm_bookings"] = await reads.alarm_bookings(session, alarms)
            new = await queries.list_bookings(session, status="requested", limit=20)
            context["new_bookings"] = new
            if new:
                await reads.record_listing(session, who.actor, "bookings", len(new))
        if who.can("complaints:read"):
            complaints = await queries.list_complaints(session)
            context["complaints"] = [c for c in complaints if c.status in ("open", "in_progress")]
        if who.can("data_requests:read"):
            context["data_requests"] = await reads.open_data_requests(session)
    return render(request, who, "dashboard.html.j2", **context)


async def handle_alarm(request: web.Request) -> web.Response:
    """已处理: the alarm leaves the open list (``backend.visits.handle_alarm`` records it)."""
    who, form = await staff_form(request, "visits:write")
    note = text_field(form, "note")[:500] or None
    try:
        async with transaction(request.app[SESSIONS]) as session:
            await visits.handle_alarm(session, int(request.match_info["report_id"]), who.actor, note)
    except (NoResultFound, BadTransition):
        raise web.HTTPNotFound(text="没有这条报警") from None
    raise see_other("/console/", "alarm_handled")
