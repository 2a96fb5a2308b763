"""A visit's reminder, written when its job comes due (backend/reminders.py queues them).

The visit must still stand: an active booking in the slot the reminder was planned for (a
cancelled visit's reminders lapse; a moved one has new reminders of its own). The message, in
the family's language, says when, what is booked and what to prepare for those services
(documents/data/service_texts.yaml), and goes out as a plain message of the outbox.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backend import bookings, notify
from backend.config import catalogue
from backend.db import transaction
from backend.models import Booking, ChannelUser, Notification, Slot
from documents.consent import service_line
from flows.messages import join, t


async def remind(sessions: async_sessionmaker[AsyncSession], job_id: int) -> bool:
    """Run one ``booking.remind`` job; False when the visit no longer stands as planned."""
    async with transaction(sessions) as session:
        job = await session.get_one(Notification, job_id)
        values: dict[str, Any] = (job.payload or {}).get("values", {})
        booking = await session.get(Booking, int(values.get("booking_id", 0)))
        if booking is None or booking.status not in bookings.ACTIVE_STATES or booking.slot_id != values.get("slot_id"):
            return False
        slot = await session.get_one(Slot, booking.slot_id)
        user = await session.get_one(ChannelUser, booking.channel_user_id)
        await notify.notify_family(session, user.id, "booking.reminder", message=(job.payload or {})["message"],
                                   values=reminder_values(user.language or "zh", booking, slot))
    return True


def reminder_values(lang: str, booking: Booking, slot: Slot) -> dict[str, str]:
    """What a reminder says of the visit, in ``lang``."""
    items = catalogue()
    lines = [service_line(code, item.name(lang), item.price, lang)
             for code in booking.service_codes if (item := items.get(code)) is not None]
    return {"number": booking.number,
            "date": f"{slot.day.month}月{slot.day.day}日" if lang == "zh" else slot.day.strftime("%b %d"),
            "weekday": t(lang, f"weekday.{slot.day.weekday()}"),
            "start": slot.start.strftime("%H:%M"), "end": slot.end.strftime("%H:%M"),
            "services": join(lang, (line.name for line in lines)),
            "preparation": " ".join(dict.fromkeys(line.preparation for line in lines))}
