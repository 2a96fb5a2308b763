"""Complaints and suggestions from families (DOMAIN.md: complaints and evaluation)."""
from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock, notify
from backend.models import Complaint

TRANSITIONS = {"open": {"in_progress", "resolved", "closed"}, "in_progress": {"resolved", "closed"},
               "resolved": {"closed", "in_progress"}, "closed": set()}


async def file_complaint(session: AsyncSession, *, channel_user_id: int, text: str,
                         booking_id: int | None, contact_preference: str) -> Complaint:
    complaint = Complaint(number=f"TS{clock.local_now():%y%m%d}{secrets.randbelow(10**6):06d}",
                          channel_user_id=channel_user_id, text=text, booking_id=booking_id,
                          contact_preference=contact_preference, status="open")
    session.add(complaint)
    await session.flush()
    await audit.record(session, f"family:{channel_user_id}", "complaint.filed", f"complaint:{complaint.id}",
                       {"number": complaint.number})
    return complaint


async def assign_complaint(session: AsyncSession, complaint: Complaint, assignee: str, actor: str) -> Complaint:
    complaint.assignee = assignee
    if complaint.status == "open":
        complaint.status = "in_progress"
    await audit.record(session, actor, "complaint.assigned", f"complaint:{complaint.id}", {"to": assignee})
    return complaint


async def answer_complaint(session: AsyncSession, complaint: Complaint, answer: str, actor: str) -> Complaint:
    """Staff's answer reaches the family in their chat; the complaint is resolved."""
    if complaint.status == "closed":
        raise ValueError("a closed complaint cannot be answered")
    complaint.answer, complaint.answered_at, complaint.status = answer, clock.now(), "resolved"
    complaint.assignee = complaint.assignee or actor
    await audit.record(session, actor, "complaint.answered", f"complaint:{complaint.id}")
    await notify.notify_family(session, complaint.channel_user_id, "complaint.answer",
                               message="notify.complaint.answer",
                               values={"number": complaint.number, "answer": answer})
    return complaint


async def move_complaint(session: AsyncSession, complaint: Complaint, status: str, actor: str) -> Complaint:
    if status not in TRANSITIONS[complaint.status]:
        raise ValueError(f"a {complaint.status} complaint cannot become {status}")
    previous, complaint.status = complaint.status, status
    await audit.record(session, actor, f"complaint.{status}", f"complaint:{complaint.id}", {"from": previous})
    return complaint
