"""Repeat visits from a discharge order, end to end: the frequency read from a sentence, one
assessment and one consent for the series, a booking a visit, reminders through the family's
channel, cancelling one visit and then the rest."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.models import Assessment, Booking, Consent, Notification, Slot
from bot.notifier import deliver_notifications
from tests.conftest import BEIJING, HAPPY_PATH


async def _series_booked(dialogue) -> None:
    await dialogue.intake(until="q_need")
    await dialogue.play([
        ("压疮换药，出院医嘱写的每周二、周五换药，连续四周", "65分"),
        ("2,3", "每周二、周五，连续4周（共8次）"),
        ("按医嘱预约", "在场的是您本人吗"),
        ("是", "联系到在场人的电话"),
        ("13800138001", "上门频次：每周二、周五，连续4周（共8次）"),
        ("确认无误", "请输入您的全名"),
        ("张丽", "这是第一次上门"),
    ])
    offered = dialogue.log[-1]
    assert "周三" not in offered and "周四" not in offered  # only the days the order names
    await dialogue.play([("1", "按出院医嘱共8次上门"), ("确认", "已提交8次上门预约")])


async def _visits(runtime) -> list[tuple[Booking, Slot]]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(Booking, Slot).join(Slot, Slot.id == Booking.slot_id)
                                      .order_by(Slot.day))).all()
    return [(b, s) for b, s in rows]


async def test_a_discharge_order_series_books_reminds_and_cancels(dialogue, runtime, clock):
    await _series_booked(dialogue)
    visits = await _visits(runtime)
    assert len(visits) == 8
    assert {s.day.weekday() for _, s in visits} == {1, 4}  # Tuesdays and Fridays
    assert len({s.day for _, s in visits}) == 8 and len({b.number for b, _ in visits}) == 8
    assert {b.series for b, _ in visits} == {visits[0][0].number}
    assert all(b.status == "requested" and b.intake_id == visits[0][0].intake_id for b, _ in visits)
    async with runtime.sessions() as session:
        assert len((await session.execute(select(Assessment))).scalars().all()) == 1
        consents = (await session.execute(select(Consent))).scalars().all()
        jobs = (await session.execute(select(Notification).where(Notification.kind == "booking.remind"))).scalars().all()
    assert [c.status for c in consents] == ["signed"]
    assert len(jobs) == 16  # the evening before and two hours before, for each visit

    sent: list[str] = []

    async def sender(external_id, replies, progress=None):
        sent.extend(r.text for r in replies)
    runtime.senders["terminal"] = sender
    assert await deliver_notifications(runtime) == 1 and "知情同意书" in sent.pop()  # sealed for the series

    # Cancel the second visit only; the first is reminded, the second never.
    second = visits[1][0].number
    await dialogue.play([("取消预约", "请选择要取消的预约"), (second, "之后还有6次"),
                         ("只取消这一次", f"预约 {second} 已取消")])
    first_day, second_day = visits[0][1].day, visits[1][1].day
    clock.set(datetime.combine(first_day - timedelta(days=1), datetime.min.time(), BEIJING) + timedelta(hours=18, minutes=1))
    await deliver_notifications(runtime)
    assert len(sent) == 1 and "温馨提醒：明天" in sent[0] and visits[0][0].number in sent[0]
    assert "伤口换药" in sent[0] and "请准备" in sent[0]
    clock.set(datetime.combine(first_day, visits[0][1].start, BEIJING) - timedelta(hours=2) + timedelta(minutes=1))
    await deliver_notifications(runtime)
    assert len(sent) == 2 and "护士将于今天 09:00-11:00 上门" in sent[1]
    clock.set(datetime.combine(second_day, visits[1][1].start, BEIJING))
    await deliver_notifications(runtime)
    assert not any(second in text for text in sent)  # a cancelled visit is not reminded

    # Then the fifth and everything after it.
    fifth = visits[4][0].number
    await dialogue.play([("取消预约", "请选择要取消的预约"), (fifth, "要取消哪些"),
                         ("以后的都取消", "已取消4次上门")])
    statuses = [b.status for b, _ in await _visits(runtime)]
    assert statuses == ["requested", "cancelled", "requested", "requested", "cancelled", "cancelled",
                        "cancelled", "cancelled"]
    async with runtime.sessions() as session:
        freed = (await session.execute(select(Slot).where(Slot.id.in_([s.id for _, s in visits[4:]])))).scalars()
        assert all(slot.booked == 0 for slot in freed)


async def test_twice_a_week_spreads_the_visits_and_once_books_one(dialogue, runtime):
    await dialogue.intake(until="q_need")
    await dialogue.play([("压疮换药，医生说最好每周来两次", "65分"),
                         ("2,3", "每周2次，连续4周（共8次）"),
                         ("只约一次", "在场的是您本人吗")])
    names = [name for name, _, _ in HAPPY_PATH]
    await dialogue.play([(message, expected) for _, message, expected in HAPPY_PATH[names.index("present_same"):]])
    visits = await _visits(runtime)
    assert len(visits) == 1 and visits[0][0].series is None


async def test_without_a_frequency_nothing_changes(dialogue, runtime):
    await dialogue.intake()
    assert "上门频次" not in "".join(dialogue.log)
    assert len(await _visits(runtime)) == 1


def test_frequency_phrases_are_not_dates(today):
    from nlu.dates import extract_dates

    assert extract_dates("最好每周来两次", today) == []
    found = extract_dates("每周二、周五换药，连续四周，下周三先来一次", today)
    assert [e.text for e in found] == ["下周三"]


async def test_cancellation_rules_are_shown_and_enforced(dialogue, runtime, clock):
    """hospital.yaml's cancellation: in the chat until 2 hours before; fees once the nurse set out."""
    await dialogue.intake(until="consent")
    summary = dialogue.log[-1]
    assert "上门开始2小时前可在本对话中免费取消" in summary and "交通费、护士劳务费共90.00元" in summary
    await dialogue.play([("张丽", "请选择上门时间"), ("1", "取消规则：上门开始2小时前")])
    await dialogue.say("确认")
    [(booking, slot)] = await _visits(runtime)
    clock.set(datetime.combine(slot.day, slot.start, BEIJING) - timedelta(hours=1))
    await dialogue.play([("取消预约", "请选择要取消的预约"), ("1", "确定取消预约"),
                         ("是", "距上门已不足2小时，无法在对话中取消，请致电 010-00000000")])
    assert [b.status for b, _ in await _visits(runtime)] == ["requested"]
