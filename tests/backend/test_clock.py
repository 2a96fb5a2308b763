"""The service's one clock: the hospital's day turns at midnight Beijing time (16:00 UTC), so
the visit times offered and the overdue alert (延时预警) follow the local day, not UTC's."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backend import bookings, care, visits
from backend import clock as service_clock
from backend.clock import PinnedClock, SystemClock
from backend.config import hospital_config
from backend.db import transaction
from backend.models import Booking, Slot
from backend.workdays import is_visit_day
from bot.notifier import deliver_notifications

BEIJING = ZoneInfo("Asia/Shanghai")


def _beijing(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BEIJING)


def _first_visit_day(after: date) -> date:
    """The first day the schedule offers visits on, strictly after ``after``."""
    plan = hospital_config().schedule
    day = after + timedelta(days=max(plan.first_day_offset, 1))
    while not is_visit_day(day, plan):
        day += timedelta(days=1)
    return day


def test_the_hospital_day_turns_at_beijing_midnight(clock: PinnedClock, today: date) -> None:
    clock.set(_beijing(today, 23, 50))
    assert clock.now().date() == today and service_clock.today() == today
    clock.set(_beijing(today + timedelta(days=1), 0, 10))
    assert clock.now().date() == today, "in UTC it is still the same day"
    assert service_clock.today() == today + timedelta(days=1)


def test_a_pinned_clock_stands_still_or_moves_on(today: date) -> None:
    start = _beijing(today, 9, 0)
    frozen = PinnedClock(start)
    assert frozen.now() == start
    frozen.advance(timedelta(hours=2))
    assert frozen.now() == start + timedelta(hours=2)
    assert PinnedClock(start, ticking=True).now() >= start
    with pytest.raises(ValueError):
        PinnedClock(datetime(2026, 1, 1))  # naive: whose midnight?
    assert SystemClock().now().tzinfo is not None


@pytest.mark.parametrize("hour, minute, days_later", [(23, 50, 0), (0, 10, 1)], ids=["23:50", "00:10"])
async def test_the_visit_times_offered_start_after_the_local_day(
        dialogue, runtime, clock: PinnedClock, today: date, hour: int, minute: int,
        days_later: int) -> None:
    await dialogue.intake(until="consent")
    local_day = today + timedelta(days=days_later)
    clock.set(_beijing(local_day, hour, minute))
    offer = await dialogue.say("张丽")  # the signature; the visit times come next
    first = _first_visit_day(local_day)
    options = re.findall(r"^\d+\. (\d+)月(\d+)日", offer, re.M)
    assert options and options[0] == (str(first.month), str(first.day)), offer
    await dialogue.play([("1", "确认预约吗"), ("确认", "预约编号")])
    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        slot = await session.get_one(Slot, booking.slot_id)
    assert slot.day == first


async def test_the_overdue_alert_follows_beijing_time(dialogue, runtime, clock: PinnedClock,
                                                      today: date) -> None:
    await dialogue.intake()
    runtime.senders.pop("terminal", None)
    await deliver_notifications(runtime)
    clock.ticking = False
    async with transaction(runtime.sessions) as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        late_slot = await bookings.add_slot(session, district="朝阳区", day=today, start=time(21, 30),
                                            end=time(23, 30), capacity=1, actor="manager")
        booking.slot_id = late_slot.id
        nurse = await care.add_worker(session, name="刘护士", role="nurse", title="主管护师",
                                      years_of_practice=8, registration_no="RN-001",
                                      districts=["朝阳区"], phone="13900000000", actor="manager")
        await bookings.change_status(session, booking, "confirmed", "manager")
        await bookings.assign(session, booking, nurse, "manager")
        clock.set(_beijing(today, 21, 40))
        await visits.report(session, booking, "arrived", "nurse")

    clock.set(_beijing(today, 23, 50))  # 20 minutes past the window, within the 30-minute grace
    async with transaction(runtime.sessions) as session:
        assert await visits.overdue(session) == []
    clock.set(_beijing(today + timedelta(days=1), 0, 10))  # 40 minutes past, and a new local day
    async with transaction(runtime.sessions) as session:
        late = await visits.overdue(session)
        assert [b.id for b, _ in late] == [booking.id]
        alerted = (await session.get_one(Booking, booking.id)).overdue_alerted_at
    assert alerted == clock.now()
