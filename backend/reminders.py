"""Reminders of a visit: the evening before and two hours before (``reminders`` in
hospital.yaml), through the family's channel.

Each reminder is a durable job in the notification outbox (kind ``booking.remind``) due at its
time, queued in the transaction that books or moves the visit. When it comes due the worker
(bot/notifier.py) checks that the booking is still active and still in the slot it was planned
for — a cancelled or moved visit's reminders lapse — and only then writes the message, in the
family's language, with what to prepare for the services booked (flows/reminders.py).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from backend import clock, notify
from backend.config import HospitalConfig
from backend.models import Booking, Slot

WHEN = ("day_before", "soon")


def reminder_times(config: HospitalConfig, slot: Slot) -> dict[str, datetime]:
    """When each reminder of a visit in ``slot`` is due (aware datetimes)."""
    zone = ZoneInfo(config.schedule.timezone)
    start = datetime.combine(slot.day, slot.start, zone)
    evening = datetime.combine(slot.day - timedelta(days=1), config.reminders.day_before_at, zone)
    return {"day_before": evening, "soon": start - timedelta(hours=config.reminders.hours_before)}


async def schedule_reminders(session: AsyncSession, config: HospitalConfig, booking: Booking,
                             slot: Slot) -> int:
    """Queue the visit's reminders whose time is still ahead; returns how many."""
    queued = 0
    now = clock.now()
    for when, due in reminder_times(config, slot).items():
        if due <= now:
            continue
        job = await notify.notify_family(session, booking.channel_user_id, notify.REMIND_VISIT,
                                         message=f"reminder.{when}",
                                         values={"booking_id": booking.id, "slot_id": slot.id, "when": when})
        job.next_attempt_at = due
        queued += 1
    return queued
