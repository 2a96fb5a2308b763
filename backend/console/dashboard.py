"""工作台: what needs someone now — the 转人工 queue, late visits, alarms, new bookings, complaints."""
from __future__ import annotations

from aiohttp import web

from backend import queries, visits
from backend.console import reads
from backend.console.guard import staff
from backend.console.pages import render
from backend.db import transaction
from backend.web.auth import SESSIONS


async def dashboard(request: web.Request) -> web.Response:
    who = await staff(request)
    context: dict[str, object] = {"queue": [], "overdue": [], "alarms": [], "alarm_bookings": {},
                                  "new_bookings": [], "complaints": []}
    async with transaction(request.app[SESSIONS]) as session:
        context["counts"] = await reads.counts(session)
        if who.can("transcripts:read"):
            context["queue"] = await queries.handoff_queue(session)
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
    return render(request, who, "dashboard.html.j2", **context)
