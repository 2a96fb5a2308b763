"""From booking to visit: confirm, assign a qualified nurse, arrive, finish, rate; the family
is told through their channel; complaints are answered; staff take conversations over."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import bookings, care, clock, complaints, conversations, visits
from backend.db import transaction
from backend.models import (
    Booking,
    ChannelUser,
    Complaint,
    ConversationState,
    Notification,
    TranscriptEntry,
)
from bot.notifier import deliver_notifications


@pytest.fixture
def outbox(runtime):
    """A fake pushing channel: what the notifier sends to each family."""
    class Outbox(list):
        async def send(self, user_id, replies, progress=None):
            self.extend((user_id, reply.text) for reply in replies)

    sent = Outbox()
    runtime.senders["terminal"] = sent.send
    return sent


async def _booked(dialogue, runtime) -> Booking:
    await dialogue.intake()
    runtime.senders.pop("terminal", None)
    await deliver_notifications(runtime)  # the sealed consent, out of the way
    number = re.search(r"JH\d{12}", dialogue.log[-1]).group()
    async with runtime.sessions() as session:
        return await bookings.by_number(session, number)


async def _worker(runtime, **overrides):
    fields = dict(name="刘护士", role="nurse", title="主管护师", years_of_practice=8,
                  registration_no="RN-001", districts=["朝阳区"], phone="13900000000", actor="manager")
    fields.update(overrides)
    async with transaction(runtime.sessions) as session:
        return await care.add_worker(session, **fields)


async def test_unqualified_workers_are_refused(dialogue, runtime):
    booking = await _booked(dialogue, runtime)
    junior = await _worker(runtime, name="小王", title="护士", years_of_practice=2, registration_no="RN-2")
    therapist = await _worker(runtime, name="康复师", role="therapist", title="技师", registration_no="RT-1")
    far = await _worker(runtime, name="远护士", registration_no="RN-3", districts=["海淀区"])
    async with transaction(runtime.sessions) as session:
        booking = await session.get(Booking, booking.id)
        await bookings.change_status(session, booking, "confirmed", "manager")
        for worker, reason in ((junior, "at least 5 years"), (junior, "below 护师"),
                               (therapist, "need a nurse"), (far, "does not serve 朝阳区")):
            with pytest.raises(care.NotQualified, match=reason):
                await bookings.assign(session, booking, worker, "manager")
        assert booking.status == "confirmed" and booking.nurse_id is None


async def test_the_whole_visit_with_notifications_and_rating(dialogue, runtime, outbox):
    booking = await _booked(dialogue, runtime)
    runtime.senders["terminal"] = outbox.send
    nurse = await _worker(runtime)
    async with transaction(runtime.sessions) as session:
        booking = await session.get(Booking, booking.id)
        with pytest.raises(bookings.BadTransition):
            await bookings.change_status(session, booking, "completed", "manager")
        await bookings.change_status(session, booking, "confirmed", "manager")
        assert [w.id for w in await care.qualified_workers(session, booking)] == [nurse.id]
        await bookings.assign(session, booking, nurse, "manager")
    assert await deliver_notifications(runtime) == 2
    assert "已审核通过" in outbox[0][1] and "刘护士（主管护师）" in outbox[1][1]
    async with transaction(runtime.sessions) as session:
        booking = await session.get(Booking, booking.id)
        await visits.report(session, booking, "arrived", "nurse:刘护士", latitude=39.99, longitude=116.47)
    await deliver_notifications(runtime)
    assert "护理人员已到达" in outbox[-1][1]
    async with transaction(runtime.sessions) as session:
        booking = await session.get(Booking, booking.id)
        await visits.report(session, booking, "finished", "nurse:刘护士")
    await deliver_notifications(runtime)
    texts = [text for _, text in outbox]
    assert any("上门服务" in t and "已结束" in t for t in texts) and "请为本次服务打分" in texts[-1]
    await dialogue.play([("5", "还有什么想对我们说的吗"), ("护士很专业，很耐心", "感谢您的评价")])
    async with runtime.sessions() as session:
        booking = await session.get(Booking, booking.id)
        assert booking.status == "completed" and booking.rating == 5
        assert booking.rating_comment == "护士很专业，很耐心"
        pushed = (await session.execute(select(TranscriptEntry).where(
            TranscriptEntry.direction == "out", TranscriptEntry.text.is_not(None)))).scalars().all()
        assert any("护理人员已到达" in (entry.text or "") for entry in pushed)


async def test_overdue_visits_raise_an_alert_once(dialogue, runtime):
    booking = await _booked(dialogue, runtime)
    nurse = await _worker(runtime)
    async with transaction(runtime.sessions) as session:
        booking = await session.get(Booking, booking.id)
        await bookings.change_status(session, booking, "confirmed", "manager")
        await bookings.assign(session, booking, nurse, "manager")
        await visits.report(session, booking, "arrived", "nurse")
        assert await visits.overdue(session) == []  # the visit is still ahead
        late = await visits.overdue(session, now=clock.now() + timedelta(days=30))
        assert [b.id for b, _ in late] == [booking.id] and booking.overdue_alerted_at is not None
        await visits.report(session, booking, "alarm", "nurse", note="家属情绪激动")
        assert len(await visits.open_alarms(session)) == 1


async def test_complaint_answer_reaches_the_family(dialogue, runtime, outbox):
    await dialogue.play([("投诉", "发生了什么"), ("电话一直打不通", "和哪次预约有关"),
                         ("与预约无关", "怎么回复您"), ("在这里回复我", "编号：TS")])
    async with transaction(runtime.sessions) as session:
        complaint = (await session.execute(select(Complaint))).scalar_one()
        await complaints.assign_complaint(session, complaint, "hotline.li", "manager")
        assert complaint.status == "in_progress"
        await complaints.answer_complaint(session, complaint, "已核实并加开一条热线，抱歉。", "hotline.li")
    await deliver_notifications(runtime)
    assert "已核实并加开一条热线" in outbox[-1][1]
    async with transaction(runtime.sessions) as session:
        complaint = (await session.execute(select(Complaint))).scalar_one()
        await complaints.move_complaint(session, complaint, "closed", "manager")
        with pytest.raises(ValueError):
            await complaints.move_complaint(session, complaint, "open", "manager")


async def test_take_over_keeps_the_bot_quiet_until_released(dialogue, runtime, outbox):
    await dialogue.intake(until="phone")
    await dialogue.say("转人工")
    async with runtime.sessions() as session:
        user = (await session.execute(select(ChannelUser))).scalar_one()
    async with transaction(runtime.sessions) as session:
        await conversations.take_over(session, user.id, "hotline.li")
        await conversations.staff_message(session, user.id, "hotline.li", "您好，我是客服小李，请问有什么可以帮您？")
    await deliver_notifications(runtime)
    assert outbox[-2][1].startswith("人工客服hotline.li已接入")  # no account here: the username
    assert outbox[-1][1].startswith("【人工客服 hotline.li】您好，我是客服小李")
    assert await dialogue.send("我妈的电话是13800138000") == []  # the bot stays quiet
    async with transaction(runtime.sessions) as session:
        await conversations.release(session, user.id, "hotline.li")
    await deliver_notifications(runtime)
    assert "人工客服hotline.li已结束对话" in outbox[-1][1]
    assert "详细地址" in await dialogue.say("13800138000")
    async with runtime.sessions() as session:
        entries = (await session.execute(select(TranscriptEntry).where(
            TranscriptEntry.author == "hotline.li"))).scalars().all()
        state = await session.get(ConversationState, user.id)
        notes = (await session.execute(select(Notification))).scalars().all()
    assert [e.text for e in entries] == ["人工客服hotline.li已接入，请直接在这里留言，我会尽快回复您。",
                                         "【人工客服 hotline.li】您好，我是客服小李，请问有什么可以帮您？"]
    assert state.taken_over_by is None
    assert all(n.status == "sent" for n in notes)
