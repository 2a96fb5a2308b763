"""A discharge order's repeat visits seen by staff: each visit a booking carrying its series;
cancelling one visit with the rest of the series after it."""
from __future__ import annotations

from sqlalchemy import select

from backend.models import Booking, Slot

from .helpers import console_login  # noqa: TID252


async def test_staff_cancel_a_visit_and_the_rest_of_its_series(client, runtime, dialogue):
    await dialogue.intake(until="q_need")
    await dialogue.play([("压疮换药，出院医嘱：每周二、周五换药，连续两周", "65分"), ("2,3", "共4次"),
                         ("按医嘱预约", "在场的是您本人吗"), ("是", "电话"), ("13800138001", "上门频次"),
                         ("确认无误", "签名"), ("张丽", "第一次上门"), ("1", "共4次上门"), ("确认", "已提交4次")])
    async with runtime.sessions() as session:
        numbers = list((await session.execute(select(Booking.number).join(Slot, Slot.id == Booking.slot_id)
                                              .order_by(Slot.day))).scalars())
    manager = await console_login(runtime, "manager.wu", "nurse_manager")
    second = await (await client.get(f"/api/bookings/{numbers[1]}", headers=manager.cookie)).json()
    assert second["series"] == numbers[0] and second["status"] == "requested"

    answer = await client.post(f"/api/bookings/{numbers[1]}/cancel", headers=manager.changing,
                               json={"reason": "出院医嘱改为每周一次", "rest": True})
    assert answer.status == 200 and (await answer.json())["status"] == "cancelled"
    async with runtime.sessions() as session:
        statuses = list((await session.execute(select(Booking.status).join(Slot, Slot.id == Booking.slot_id)
                                               .order_by(Slot.day))).scalars())
    assert statuses == ["requested", "cancelled", "cancelled", "cancelled"]
    again = await client.post(f"/api/bookings/{numbers[1]}/cancel", headers=manager.changing,
                              json={"reason": "再取消", "rest": True})
    assert again.status == 409
