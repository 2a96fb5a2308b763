"""投诉建议: complaints with their state and age; assign, answer (it reaches the family), close."""
from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from backend import complaints, queries
from backend.console import reads
from backend.console.guard import staff, staff_form, text_field
from backend.console.pages import render, see_other
from backend.db import transaction
from backend.models import Booking, Complaint, StaffAccount
from backend.web.auth import SESSIONS, Principal


async def complaint_list(request: web.Request) -> web.Response:
    who = await staff(request, "complaints:read")
    status = request.query.get("status", "")
    async with transaction(request.app[SESSIONS]) as session:
        rows = await queries.list_complaints(session, status or None)
        if rows:
            await reads.record_listing(session, who.actor, "complaints", len(rows))
    return render(request, who, "complaints.html.j2", rows=rows, status=status)


async def _page(request: web.Request, who: Principal, complaint_id: int, *, error: str | None = None,
                status: int = 200) -> web.Response:
    async with transaction(request.app[SESSIONS]) as session:
        found = await reads.complaint(session, complaint_id, who.actor)
        if found is None:
            raise web.HTTPNotFound(text="没有这条投诉")
        booking = await session.get(Booking, found.booking_id) if found.booking_id else None
        colleagues = list((await session.execute(select(StaffAccount).where(StaffAccount.active.is_(True))
                                                 .order_by(StaffAccount.display_name))).scalars())
    return render(request, who, "complaint.html.j2", http_status=status, complaint=found, booking=booking,
                  colleagues=colleagues, error=error)


async def complaint_page(request: web.Request) -> web.Response:
    who = await staff(request, "complaints:read")
    return await _page(request, who, int(request.match_info["complaint_id"]))


async def change(request: web.Request) -> web.Response:
    who, form = await staff_form(request, "complaints:write")
    complaint_id = int(request.match_info["complaint_id"])
    action = text_field(form, "action")
    answer = text_field(form, "answer")
    assignee = text_field(form, "assignee") or who.actor
    if action == "answer" and not answer:
        return await _page(request, who, complaint_id, error="请填写答复内容。", status=400)
    try:
        async with transaction(request.app[SESSIONS]) as session:
            found = await session.get(Complaint, complaint_id)
            if found is None:
                raise web.HTTPNotFound(text="没有这条投诉")
            if action == "assign":
                await complaints.assign_complaint(session, found, assignee, who.actor)
                done = "complaint_assigned"
            elif action == "answer":
                await complaints.answer_complaint(session, found, answer[:2000], who.actor)
                done = "answered"
            elif action == "close":
                await complaints.move_complaint(session, found, "closed", who.actor)
                done = "closed"
            else:
                raise web.HTTPBadRequest(text="unknown action")
    except ValueError:
        return await _page(request, who, complaint_id, error="投诉当前的状态不允许这个操作。", status=409)
    raise see_other(f"/console/complaints/{complaint_id}", done)
