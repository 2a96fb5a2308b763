"""Complaints and suggestions from families, handled and answered (DOMAIN.md: complaints and
evaluation). An answer reaches the family in their chat."""
from __future__ import annotations

from sqlalchemy import select

from backend import complaints
from backend.models import Booking, Complaint
from backend.queries import age_of, list_complaints

from .errors import ApiError
from .routing import Call, not_found, route
from .schemas import (
    ComplaintAnswerBody,
    ComplaintAssignBody,
    ComplaintFilter,
    ComplaintList,
    ComplaintOut,
    ComplaintStatusBody,
)

NUMBER = "{number:[A-Za-z0-9]{1,30}}"


async def _complaint(call: Call) -> Complaint:
    found = (await call.session.execute(select(Complaint).where(
        Complaint.number == call.arg("number").upper()))).scalar_one_or_none()
    if found is None:
        raise not_found("complaint")
    return found


async def _out(call: Call, items: list[Complaint]) -> list[ComplaintOut]:
    ids = {c.booking_id for c in items if c.booking_id is not None}
    numbers = dict((await call.session.execute(select(Booking.id, Booking.number).where(
        Booking.id.in_(ids)))).all()) if ids else {}
    return [ComplaintOut(number=c.number, status=c.status, text=c.text,  # type: ignore[arg-type]
                         contact_preference=c.contact_preference,
                         booking_number=numbers.get(c.booking_id) if c.booking_id else None,
                         assignee=c.assignee, answer=c.answer, answered_at=c.answered_at,
                         created_at=c.created_at,
                         age_hours=round(age_of(c.created_at).total_seconds() / 3600, 1)) for c in items]


@route("GET", "/api/complaints", scope="complaints:read", tag="complaints", query=ComplaintFilter,
       answer=ComplaintList)
async def list_all(call: Call) -> ComplaintList:
    """Complaints, newest first, with their age in hours."""
    items = await list_complaints(call.session, call.query_as(ComplaintFilter).status)
    return ComplaintList(complaints=await _out(call, items))


@route("POST", f"/api/complaints/{NUMBER}/assign", scope="complaints:write", tag="complaints",
       body=ComplaintAssignBody, answer=ComplaintOut, errors=(400, 404, 409))
async def assign(call: Call) -> ComplaintOut:
    """Give a complaint to a member of staff (the caller when no assignee is named)."""
    complaint = await _complaint(call)
    if complaint.status == "closed":
        raise ApiError(409, "a closed complaint cannot be assigned", problem="conflict")
    await complaints.assign_complaint(call.session, complaint,
                                      call.body_as(ComplaintAssignBody).assignee or call.actor, call.actor)
    return (await _out(call, [complaint]))[0]


@route("POST", f"/api/complaints/{NUMBER}/answer", scope="complaints:write", tag="complaints",
       body=ComplaintAnswerBody, answer=ComplaintOut, errors=(400, 404, 409))
async def answer(call: Call) -> ComplaintOut:
    """Answer a complaint; the answer reaches the family and the complaint is resolved."""
    complaint = await _complaint(call)
    try:
        await complaints.answer_complaint(call.session, complaint, call.body_as(ComplaintAnswerBody).answer,
                                          call.actor)
    except ValueError as error:
        raise ApiError(409, str(error), problem="conflict") from None
    return (await _out(call, [complaint]))[0]


@route("POST", f"/api/complaints/{NUMBER}/status", scope="complaints:write", tag="complaints",
       body=ComplaintStatusBody, answer=ComplaintOut, errors=(400, 404, 409))
async def move(call: Call) -> ComplaintOut:
    """Move a complaint to in_progress, resolved or closed."""
    complaint = await _complaint(call)
    try:
        await complaints.move_complaint(call.session, complaint, call.body_as(ComplaintStatusBody).status,
                                        call.actor)
    except ValueError as error:
        raise ApiError(409, str(error), problem="conflict") from None
    return (await _out(call, [complaint]))[0]
