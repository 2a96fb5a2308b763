"""Complaints and suggestions from families (DOMAIN.md: complaints and evaluation)."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from backend.models import Complaint


async def file_complaint(session: AsyncSession, *, channel_user_id: int, text: str,
                         booking_id: int | None, contact_preference: str) -> Complaint:
    complaint = Complaint(number=f"TS{datetime.now():%y%m%d}{secrets.randbelow(10**6):06d}",
                          channel_user_id=channel_user_id, text=text, booking_id=booking_id,
                          contact_preference=contact_preference, status="open")
    session.add(complaint)
    await session.flush()
    return complaint
