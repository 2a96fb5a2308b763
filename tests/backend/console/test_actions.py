"""The console's forms perform the API's routes (backend/console/actions.py): the same checks and
refusals, worded for the console — a reschedule into another district, a cancellation, a closed
complaint."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend import bookings
from backend.config import hospital_config
from backend.db import transaction
from backend.models import Booking, Complaint, Slot
from tests.backend.console.conftest import Staff
from tests.conftest import Dialogue


async def test_a_booking_is_rescheduled_only_within_its_district_and_cancelled_with_a_reason(
        as_staff: Staff, client, dialogue, runtime, today):
    await dialogue.intake()
    async with transaction(runtime.sessions) as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        await bookings.ensure_slots(session, hospital_config(), "海淀区", today)
        elsewhere = (await session.execute(select(Slot).where(
            Slot.district == "海淀区", Slot.day > today + timedelta(days=1)).limit(1))).scalar_one()
    await as_staff.login("zhao.manager")
    page = f"/console/bookings/{booking.id}"
    moved = await as_staff.post(page, action="reschedule", slot_id=str(elsewhere.id))
    assert moved.status == 409 and "这个时段不在预约所在的区域" in await moved.text()
    await as_staff.post(page, action="confirm")
    silent = await as_staff.post(page, action="cancel", reason="")
    assert silent.status == 400 and "请填写取消原因" in await silent.text()
    cancelled = await as_staff.post(page, action="cancel", reason="家属改约其他医院")
    assert cancelled.status == 303 and "ok=cancelled" in cancelled.headers["Location"]
    again = await as_staff.post(page, action="confirm")
    assert again.status == 409 and "当前的状态不允许这个操作" in await again.text()
    assert (await client.post(page, data={"action": "confirm"})).status == 403  # no CSRF token
    assert (await as_staff.post("/console/bookings/999", action="confirm")).status == 404
    async with runtime.sessions() as session:
        assert (await session.get_one(Booking, booking.id)).status == "cancelled"


async def test_a_closed_complaint_cannot_be_assigned_from_the_console(as_staff: Staff, runtime):
    complaining = Dialogue(runtime.engine, user_id="family-2")
    await complaining.play([("投诉", "发生了什么"), ("护士迟到了一个小时", "和哪次预约有关"),
                            ("与预约无关", "怎么回复您"), ("在这里回复我", "编号：TS")])
    async with runtime.sessions() as session:
        complaint_id = (await session.execute(select(Complaint.id))).scalar_one()
    await as_staff.login("li.hotline")
    page = f"/console/complaints/{complaint_id}"
    assert (await as_staff.post(page, action="close")).status == 303
    refused = await as_staff.post(page, action="assign", assignee="li.hotline")
    assert refused.status == 409 and "投诉当前的状态不允许这个操作" in await refused.text()
