"""The visit itself, as the visiting staff report it: arrived, finished, alarm (一键报警),
and the overdue alert (延时预警) when a visit runs past its window without "finished"."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import audit, clock, notify
from backend.bookings import BadTransition, change_status
from backend.config import hospital_config
from backend.models import Booking, Slot, VisitReport

GRACE = timedelta(minutes=30)


async def report(session: AsyncSession, booking: Booking, kind: str, actor: str, *,
                 latitude: float | None = None, longitude: float | None = None,
                 note: str | None = None) -> VisitReport:
    """Record a report from the visit; the family hears of arrival and the end of the visit."""
    if kind not in ("arrived", "finished", "alarm"):
        raise ValueError("kind must be arrived, finished or alarm")
    if booking.status != "assigned":
        raise BadTransition(f"a {booking.status} booking has no visit under way")
    now = clock.now()
    entry = VisitReport(booking_id=booking.id, kind=kind, latitude=latitude, longitude=longitude,
                        note=note, reported_by=actor)
    session.add(entry)
    await session.flush()
    await audit.record(session, actor, f"visit.{kind}", f"booking:{booking.id}",
                       {"number": booking.number, "lat": latitude, "lon": longitude})
    if kind == "arrived":
        booking.arrived_at = now
        await notify.notify_family(session, booking.channel_user_id, "visit.arrived",
                                   message="notify.visit.arrived", values={"number": booking.number})
    elif kind == "finished":
        if booking.arrived_at is None:
            raise BadTransition("the visit was never reported as arrived")
        booking.finished_at = now
        await change_status(session, booking, "completed", actor, tell_family=False)
        await notify.notify_family(session, booking.channel_user_id, "visit.rating_request",
                                   message="notify.visit.finished",
                                   values={"number": booking.number, "booking_id": booking.id})
    await session.flush()
    return entry


async def overdue(session: AsyncSession, now: datetime | None = None) -> list[tuple[Booking, Slot]]:
    """Visits under way past their window's end (plus grace) with no "finished" (延时预警)."""
    now = now or clock.now()
    tz = ZoneInfo(hospital_config().schedule.timezone)
    rows = (await session.execute(select(Booking, Slot).join(Slot, Slot.id == Booking.slot_id).where(
        Booking.status == "assigned", Booking.arrived_at.is_not(None),
        Booking.finished_at.is_(None)))).all()
    late = []
    for booking, slot in rows:
        end = datetime.combine(slot.day, slot.end, tzinfo=tz)
        if now > end + GRACE:
            if booking.overdue_alerted_at is None:
                booking.overdue_alerted_at = now
                await audit.record(session, "system", "visit.overdue", f"booking:{booking.id}",
                                   {"number": booking.number})
            late.append((booking, slot))
    return late


async def open_alarms(session: AsyncSession) -> list[VisitReport]:
    return list((await session.execute(select(VisitReport).where(
        VisitReport.kind == "alarm", VisitReport.handled_at.is_(None)).order_by(VisitReport.id))).scalars())


async def rate(session: AsyncSession, booking_id: int, channel_user_id: int, score: int,
               comment: str | None) -> Booking:
    """The family's rating of a finished visit (评议), 1–5 with an optional comment."""
    booking = await session.get_one(Booking, booking_id)
    if booking.channel_user_id != channel_user_id or booking.status != "completed":
        raise BadTransition("only the family of a completed visit can rate it")
    if not 1 <= score <= 5:
        raise ValueError("score must be 1 to 5")
    booking.rating, booking.rating_comment = score, comment
    await audit.record(session, f"family:{channel_user_id}", "visit.rated", f"booking:{booking.id}",
                       {"score": score})
    return booking


async def handle_alarm(session: AsyncSession, report_id: int, actor: str, note: str | None = None) -> VisitReport:
    """A member of staff has dealt with an alarm (一键报警); it leaves the open list."""
    report_row = await session.get_one(VisitReport, report_id)
    if report_row.kind != "alarm":
        raise BadTransition("only an alarm can be handled")
    if report_row.handled_at is None:
        report_row.handled_at = clock.now()
        await audit.record(session, actor, "visit.alarm_handled", f"booking:{report_row.booking_id}",
                           {"report": report_row.id, "note": note})
    return report_row
