"""Repeat visits from a discharge order (DOMAIN.md: discharge orders may name home services and
their frequency): one assessment and one consent for the series, each visit a booking of its
own with its slot, nurse and state, all carrying the number of the first visit in ``series``."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from backend import bookings, clock
from backend.config import HospitalConfig
from backend.models import Booking, Slot


@dataclass
class SeriesPlan:
    """The visits of a series: a slot for each date found, and the dates with no open slot."""

    slots: list[Slot] = field(default_factory=list)
    missing: list[date] = field(default_factory=list)


def visit_weekdays(weekdays: tuple[int, ...], per_week: int, first: date) -> list[int]:
    """The weekdays of the visits: those named, or ``per_week`` spread from the first visit's
    ("每周两次" from a Tuesday: Tuesday and Friday)."""
    if weekdays:
        return sorted(set(weekdays))
    count = max(1, min(per_week, 7))
    return sorted({(first.weekday() + round(i * 7 / count)) % 7 for i in range(count)})


async def plan_series(session: AsyncSession, config: HospitalConfig, district: str, first: Slot, *,
                      weekdays: tuple[int, ...] = (), per_week: int = 0, weeks: int | None = None) -> SeriesPlan:
    """The first visit and the following ones on the series' weekdays, ``weeks`` weeks' worth
    of visits in all (the hospital's default when the order names none), each in a window
    starting when the first one does where it is open, else the day's first open window."""
    days = visit_weekdays(weekdays, per_week, first.day)
    weeks = min(weeks or config.series.default_weeks, config.series.max_weeks)
    wanted = weeks * len(days)
    dates = [first.day]
    day = first.day
    while len(dates) < wanted:
        day += timedelta(days=1)
        if day.weekday() in days:
            dates.append(day)
    today = clock.today()
    await bookings.ensure_slots(session, config, district, today, days=(dates[-1] - today).days + 1)
    plan = SeriesPlan(slots=[first])
    for visit_day in dates[1:]:
        open_slots = list((await session.execute(
            select(Slot).where(Slot.district == district, Slot.day == visit_day, Slot.booked < Slot.capacity)
            .order_by(Slot.start))).scalars())
        same_time = [s for s in open_slots if s.start == first.start]
        if same_time or open_slots:
            plan.slots.append((same_time or open_slots)[0])
        else:
            plan.missing.append(visit_day)
    return plan


async def later_visits(session: AsyncSession, booking: Booking) -> list[tuple[Booking, Slot]]:
    """The booking and the active visits of its series on or after its day, soonest first."""
    if not booking.series:
        return [(booking, await session.get_one(Slot, booking.slot_id))]
    own = await session.get_one(Slot, booking.slot_id)
    rows = (await session.execute(
        select(Booking, Slot).join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.series == booking.series, Booking.status.in_(bookings.ACTIVE_STATES),
               Slot.day >= own.day)
        .order_by(Slot.day, Slot.start))).all()
    return [(b, s) for b, s in rows if b.id == booking.id or (s.day, s.start) > (own.day, own.start)]


async def cancel_from(session: AsyncSession, booking: Booking, actor: str, note: str | None = None, *,
                      tell_family: bool = True) -> list[Booking]:
    """Cancel a visit and the rest of its series after it ("以后的都取消"); returns those cancelled."""
    if booking.status not in bookings.ACTIVE_STATES:
        raise bookings.BadTransition(f"a {booking.status} booking cannot become cancelled")
    cancelled = []
    for visit, _ in await later_visits(session, booking):
        await bookings.change_status(session, visit, "cancelled", actor, note, tell_family=tell_family)
        cancelled.append(visit)
    return cancelled
