"""投诉建议: complaints with their state and age; assign, answer (it reaches the family), close."""
from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from sqlalchemy import select

from backend import queries
from backend.api import complaints as api
from backend.api.routing import Handler
from backend.console import actions, reads
from backend.console.guard import Form, staff, text_field
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


# What each button of the complaint page does: the API route, the form's fields as its body.
ACTIONS: dict[str, tuple[Handler, Callable[[Form], dict[str, object]], str]] = {
    "assign": (api.assign, lambda form: {"assignee": text_field(form, "assignee") or None}, "complaint_assigned"),
    "answer": (api.answer, lambda form: {"answer": text_field(form, "answer")[:2000]}, "answered"),
    "close": (api.move, lambda form: {"status": "closed"}, "closed"),
}


async def change(request: web.Request) -> web.Response:
    """Assign, answer (it reaches the family) or close, through the API's routes."""
    complaint_id = int(request.match_info["complaint_id"])
    action = text_field(await request.post(), "action")
    if action not in ACTIONS:
        raise web.HTTPBadRequest(text="unknown action")
    handler, fields, done = ACTIONS[action]

    def before(who: Principal, form: Form) -> None:
        if action == "answer" and not text_field(form, "answer"):
            raise actions.Refused(400, "请填写答复内容。")

    async def number() -> dict[str, str]:
        async with transaction(request.app[SESSIONS]) as session:
            found = (await session.execute(select(Complaint.number).where(
                Complaint.id == complaint_id))).scalar_one_or_none()
        if found is None:
            raise web.HTTPNotFound(text="没有这条投诉")
        return {"number": found}

    try:
        await actions.act(request, handler, args=number, fields=fields, before=before)
    except actions.Refused as refused:
        assert refused.who is not None
        message = "投诉当前的状态不允许这个操作。" if refused.status == 409 else refused.message
        return await _page(request, refused.who, complaint_id, error=message, status=refused.status)
    raise see_other(f"/console/complaints/{complaint_id}", done)
