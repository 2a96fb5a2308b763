"""After the booking: status, cancellation, complaints, the services overview."""
from __future__ import annotations

import re

from sqlalchemy import select

from backend.models import Booking, BookingEvent, Complaint, Slot


async def test_status_lists_the_booking_with_its_state(dialogue):
    assert "没有预约记录" in await dialogue.say("查询")
    await dialogue.intake()
    number = re.search(r"JH\d{12}", dialogue.log[-1]).group()
    answer = await dialogue.say("我的预约")
    assert number in answer and "待审核" in answer and "伤口换药、压疮护理" in answer


async def test_cancel_a_booking_frees_the_place(dialogue, runtime):
    await dialogue.intake()
    await dialogue.play([("取消预约", "请选择要取消的预约"), ("1", "确定取消预约"), ("是", "已取消")])
    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        slot = await session.get(Slot, booking.slot_id)
        events = (await session.execute(select(BookingEvent.to_status).order_by(BookingEvent.id))).scalars().all()
    assert booking.status == "cancelled" and slot.booked == 0
    assert events == ["requested", "cancelled"]
    assert "没有可以取消的预约" in await dialogue.say("取消预约")


async def test_keep_the_booking_when_not_confirmed(dialogue):
    await dialogue.intake()
    await dialogue.play([("取消预约", "请选择要取消的预约"), ("1", "确定取消预约"), ("否", "预约保留不变")])


async def test_complaint_gets_a_number(dialogue, runtime):
    await dialogue.intake()
    await dialogue.play([
        ("我要投诉", "请告诉我发生了什么"),
        ("护士迟到了一个小时也没有提前通知", "和哪次预约有关"),
        ("1", "怎么回复您"),
        ("电话回访", "编号：TS"),
    ])
    async with runtime.sessions() as session:
        complaint = (await session.execute(select(Complaint))).scalar_one()
    assert complaint.status == "open" and complaint.booking_id is not None
    assert complaint.contact_preference == "phone" and "迟到" in complaint.text


async def test_services_and_prices(dialogue):
    answer = await dialogue.say("你们都有哪些服务项目，多少钱")
    assert "伤口换药：80.00元" in answer and "化疗" in answer


async def test_menu_offers_the_likely_choices_when_unsure(dialogue):
    await dialogue.say("你好")
    answer = await dialogue.say("那个护士的事")
    assert "没有理解" in answer and "您是想要下面哪一项" in answer
    assert "查询我的预约" in answer and "投诉建议" in answer and "转人工" not in answer


async def test_the_likely_choices_come_most_likely_first(runtime):
    from flows.engine import Deps
    from flows.factory import build_engine
    from nlu.base import Parse

    class Unsure:
        async def parse(self, text):
            return Parse(text, "complaint", 0.35, [], [("complaint", 0.35), ("check_booking", 0.3),
                                                      ("book_service", 0.2)])

    engine = build_engine(Deps(sessions=runtime.sessions, recognizer=Unsure()))
    from tests.conftest import Dialogue

    talk = Dialogue(engine, user_id="unsure")
    answer = await talk.say("那个事")
    assert "1. 投诉建议\n2. 查询我的预约" in answer
    assert "请告诉我发生了什么" in await talk.say("1")


async def test_repeated_misunderstanding_offers_a_person(dialogue):
    await dialogue.say("你好")
    assert "转人工" not in await dialogue.say("那个护士的事")
    answer = await dialogue.say("我妈那个")
    assert "没有理解" in answer and "回复“转人工”" in answer
