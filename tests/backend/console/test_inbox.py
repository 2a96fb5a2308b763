"""The hotline's inbox and the nurse manager's review over HTTP: the assessment card, transcripts in
words, finding the caller, the queue, take-over told to the family, a phone revealed on request."""
from __future__ import annotations

import re

from sqlalchemy import select

from backend.models import AuditEntry, Booking
from tests.backend.console.conftest import Staff


async def _actions(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())


async def _booking_id(runtime) -> int:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return (await session.execute(select(Booking.id))).scalar_one()


async def test_the_booking_page_shows_the_assessment_card(as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake()
    await as_staff.login("zhao.manager")
    page = await (await client.get(f"/console/bookings/{await _booking_id(runtime)}")).text()
    card = page[page.index('aria-label="评估"'):]
    assert "<b>65</b> 分" in card and "轻度依赖" in card
    assert re.search(r'<ul class="red-flags"[^>]*>\s*<li>⚠ 过敏：青霉素过敏</li>', card)
    assert "能自己吃" in card and "脑梗后卧床，骶尾部有压疮" in card and "阿司匹林" in card
    assert card.count('class="thumb"') == 2
    assert re.search(r'提交预约\s*<span class="muted">家属（终端）</span>', page) and "family:terminal" not in page


async def test_the_conversation_page_shows_the_assessment_card(as_staff: Staff, client, dialogue):
    await dialogue.intake(until="services")
    await as_staff.login("li.hotline")
    found = await (await client.get("/console/conversations", params={"q": "王秀英"})).text()
    user_id = re.search(r'/console/conversations/(\d+)"', found).group(1)  # type: ignore[union-attr]
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    assert 'aria-label="评估"' in page and "过敏：青霉素过敏" in page


async def test_a_transcript_shows_what_the_family_chose_and_events_in_words(as_staff: Staff, client, runtime):
    from flows.types import Inbound

    engine = runtime.engine
    await engine.handle(Inbound(channel="telegram", user_id="42", kind="event", event="start", language="en"))
    menu = await engine.handle(Inbound(channel="telegram", user_id="42", text="hello", language="en"))
    book = next(c for r in menu for c in r.choices if "Book" in c.label)
    await engine.handle(Inbound(channel="telegram", user_id="42", kind="choice", choice=book.id, language="en"))
    await as_staff.login("li.hotline")
    found = await (await client.get("/console/conversations", params={"q": "42"})).text()
    user_id = re.search(r'/console/conversations/(\d+)"', found).group(1)  # type: ignore[union-attr]
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    assert f"选择：{book.label}" in page and "（choice）" not in page
    assert "（开始对话）" in page and "（event）" not in page
    assert '语言：<span class="lang">English</span>' in page


async def test_the_caller_is_found_by_name_phone_id_tail_or_booking(as_staff: Staff, client, dialogue, runtime):
    """张丽 calls: she may give her own name, the present person's phone, the ID's last four
    characters or the booking number; encrypted values are found by blind index."""
    await dialogue.intake()
    async with runtime.sessions() as session:
        number = (await session.execute(select(Booking.number))).scalar_one()
    await as_staff.login("li.hotline")
    for q in ("张丽", "王秀英", "13800138000", "13800138001", "002X", "002x", "11010519491231002X", number):
        page = await (await client.get("/console/conversations", params={"q": q})).text()
        assert re.search(r'/console/conversations/\d+"', page), q
    for q in ("1380013800", "9999", "李四"):
        page = await (await client.get("/console/conversations", params={"q": q})).text()
        assert not re.search(r'/console/conversations/\d+"', page), q


async def test_the_queue_says_who_waits_how_long_where_and_who_holds_it(as_staff: Staff, client, runtime, clock):
    from datetime import timedelta

    from tests.conftest import Dialogue

    zhang = Dialogue(runtime.engine, user_id="family-zhang")
    await zhang.intake(until="q_feeding")
    await zhang.say("转人工")
    abroad = Dialogue(runtime.engine, user_id="family-abroad", language="en")
    await abroad.say("hello")
    await abroad.say("I want to talk to a person")
    clock.advance(timedelta(minutes=12))
    await as_staff.login("zhao.manager")
    page = await (await client.get("/console/")).text()
    queue = page[page.index('id="queue"'):]
    assert "张丽（女儿）" in queue and "12 分钟" in queue
    assert "预约申请 · 评估问卷（进食）" in queue and "intake" not in queue
    assert "English" in queue and "中文" in queue and "无人接管" in queue
    user_id = re.search(r'href="/console/conversations/(\d+)">查看并接管', queue).group(1)  # type: ignore[union-attr]
    conversation = await (await client.get(f"/console/conversations/{user_id}")).text()
    assert "接管对话" in conversation  # a nurse manager may take over too
    await as_staff.post(f"/console/conversations/{user_id}/take-over")
    queue = (await (await client.get("/console/")).text()).split('id="queue"')[1]
    assert '<span class="state assigned">赵护士长</span>' in queue


async def test_the_family_hears_that_a_person_joined_wrote_and_left(as_staff: Staff, client, runtime):
    from bot.notifier import deliver_notifications
    from tests.conftest import Dialogue

    family = Dialogue(runtime.engine, user_id="family-zhang")
    await family.intake(until="address")
    await family.say("转人工")
    await as_staff.login("li.hotline")
    page = await (await client.get("/console/")).text()
    user_id = re.search(r'href="/console/conversations/(\d+)">查看并接管', page).group(1)  # type: ignore[union-attr]
    await as_staff.post(f"/console/conversations/{user_id}/take-over")
    await as_staff.post(f"/console/conversations/{user_id}/take-over")  # twice: told once
    await as_staff.post(f"/console/conversations/{user_id}/message", text="您好，地址我来帮您填写。")
    await as_staff.post(f"/console/conversations/{user_id}/release")
    await deliver_notifications(runtime)
    from backend.models import TranscriptEntry

    async with runtime.sessions() as session:
        said = list((await session.execute(select(TranscriptEntry.text).where(
            TranscriptEntry.direction == "out").order_by(TranscriptEntry.id))).scalars())
    assert said[-3:] == ["人工客服李敏已接入，请直接在这里留言，我会尽快回复您。",
                         "【人工客服 李敏】您好，地址我来帮您填写。",
                         "人工客服李敏已结束对话。您可以继续和我对话，需要时随时回复“转人工”。"]
    assert "conversation.taken_over" in await _actions(runtime)


async def test_a_phone_is_revealed_with_one_click_and_recorded(as_staff: Staff, client, dialogue, runtime):
    await dialogue.intake(until="services")
    await as_staff.login("li.hotline")
    found = await (await client.get("/console/conversations", params={"q": "张丽"})).text()
    user_id = re.search(r'/console/conversations/(\d+)"', found).group(1)  # type: ignore[union-attr]
    page = await (await client.get(f"/console/conversations/{user_id}")).text()
    panel = page[page.index('<dd class="phone">'):].split("</dd>")[0]
    assert "138****8000" in panel and "13800138000" not in panel
    assert "pii.phone_revealed" not in await _actions(runtime)
    refused = await client.post(f"/console/conversations/{user_id}/phone", data={})
    assert refused.status == 403
    revealed = await (await as_staff.post(f"/console/conversations/{user_id}/phone")).text()
    assert 'href="tel:13800138000"' in revealed
    assert "pii.phone_revealed" in await _actions(runtime)


async def test_after_a_hand_off_the_family_is_asked_once_how_it_went(as_staff: Staff, client, runtime):
    from backend.models import HandoffRequest
    from bot.notifier import deliver_notifications
    from tests.conftest import Dialogue

    family = Dialogue(runtime.engine, user_id="family-zhang")
    await family.say("你好")
    assert "已为您转接人工客服" in await family.say("转人工")
    await as_staff.login("li.hotline")
    page = await (await client.get("/console/")).text()
    user_id = re.search(r'href="/console/conversations/(\d+)">查看并接管', page).group(1)  # type: ignore[union-attr]
    await as_staff.post(f"/console/conversations/{user_id}/take-over")
    await as_staff.post(f"/console/conversations/{user_id}/release")
    pushed = []
    runtime.senders["terminal"] = lambda external_id, replies, progress=None: _collect(pushed, replies)
    await deliver_notifications(runtime)
    said = "\n".join(reply.text or "" for reply in pushed)
    assert "人工客服李敏已结束对话" in said and "刚才的人工服务您满意吗？" in said
    assert "谢谢您的反馈" in await family.say("还行吧，一般")
    async with runtime.sessions() as session:
        request = (await session.execute(select(HandoffRequest))).scalar_one()
    assert request.satisfaction == "fair" and request.rated_at is not None
    assert "handoff.rated" in await _actions(runtime)


async def _collect(into: list, replies: list) -> None:  # type: ignore[type-arg]
    into.extend(replies)
