from __future__ import annotations

from datetime import time, timedelta

import pytest
from sqlalchemy import select

from backend import bookings, visits
from backend.config import hospital_config
from backend.db import transaction
from backend.models import AuditEntry, Booking, VisitReport


async def test_capacity_changes_and_hand_made_slots(runtime, today):
    async with transaction(runtime.sessions) as session:
        slot = await bookings.add_slot(session, district="海淀区", day=today + timedelta(days=11), start=time(18),
                                       end=time(20), capacity=1, actor="manager")
        await bookings.take_place(session, slot.id)
        with pytest.raises(bookings.BadTransition):
            await bookings.set_capacity(session, slot.id, 0, "manager")
        await bookings.set_capacity(session, slot.id, 2, "manager")
        with pytest.raises(ValueError):
            await bookings.add_slot(session, district="海淀区", day=today + timedelta(days=11), start=time(20),
                                    end=time(19), capacity=1, actor="manager")
    async with transaction(runtime.sessions) as session:
        open_ = await bookings.open_slots(session, hospital_config(), "海淀区", limit=100, today=today)
        assert any(s.id == slot.id and s.capacity == 2 and s.booked == 1 for s in open_)
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert actions == ["slot.added", "slot.capacity"]


async def test_an_alarm_is_handled_once(dialogue, runtime):
    await dialogue.intake()
    async with transaction(runtime.sessions) as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        booking.status = "assigned"
        report = await visits.report(session, booking, "alarm", "nurse", note="老人跌倒")
    async with transaction(runtime.sessions) as session:
        await visits.handle_alarm(session, report.id, "manager", note="已联系家属")
        await visits.handle_alarm(session, report.id, "manager")
        assert await visits.open_alarms(session) == []
        handled = await session.get(VisitReport, report.id)
        assert handled.handled_at is not None
        assert (await session.execute(select(AuditEntry.action).where(
            AuditEntry.action == "visit.alarm_handled"))).scalars().all() == ["visit.alarm_handled"]
