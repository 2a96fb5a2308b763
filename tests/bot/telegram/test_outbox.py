"""Replies go through the durable outbox: a Bot API 500 after the update was answered delays a
reply, a process killed right after the turn committed only delays it too; each arrives once,
in order, and a chat that is gone is given up with the reason recorded."""
from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial

from sqlalchemy import select

from backend.models import Notification
from bot import delivery
from bot.notifier import deliver_notifications
from bot.telegram.channel import TelegramChannel
from bot.telegram.client import make_bot

from .conftest import TOKEN, FamilyMember  # noqa: TID252


async def _rows(runtime, kind="reply"):
    async with runtime.sessions() as session:
        return list((await session.execute(select(Notification).where(Notification.kind == kind)
                                           .order_by(Notification.id))).scalars())


def _texts(telegram_api, family):
    return [str(c.params.get("text")) for c in telegram_api.sent(family.chat_id)]


async def test_a_500_delays_the_reply_and_it_arrives_once_in_order(family, telegram_api, runtime, clock):
    telegram_api.fail("sendMessage", 500, "Internal Server Error", after=1)  # the turn's 2nd message
    await family.say("/start", expect="上门护理服务")
    assert not any("请问需要办理什么" in text for text in _texts(telegram_api, family))
    [row] = await _rows(runtime)
    assert row.status == "pending" and row.attempts == 1 and row.payload["done"] == 1
    assert "Internal Server Error" in row.last_error

    again = family.message(text="我想预约上门护理")
    await family.do(again)  # the family writes again meanwhile: its answer waits its turn
    await family.processed(again)
    await family.outbox_sent()
    assert not any("个人信息" in text for text in _texts(telegram_api, family))
    clock.advance(timedelta(seconds=6))  # the first back-off
    assert await deliver_notifications(runtime) == 2

    texts = _texts(telegram_api, family)
    assert "上门护理服务" in texts[0] and "请问需要办理什么" in texts[1]  # once each, in order
    assert "个人信息" in texts[2] and not any("请问需要办理什么" in text for text in texts[2:])
    assert [r.status for r in await _rows(runtime)] == ["sent", "sent"]
    assert "!500" in " ".join(c.method for c in telegram_api.calls)


async def test_a_chat_that_is_gone_is_given_up_with_the_reason(family, telegram_api, runtime):
    telegram_api.fail("sendMessage", 400, "Bad Request: chat not found")
    start = family.message(text="/start")
    await family.do(start)
    await family.processed(start)
    await family.outbox_sent()
    [row] = await _rows(runtime)
    assert row.status == "failed" and row.attempts == 1 and "chat not found" in row.last_error
    assert await deliver_notifications(runtime) == 0


async def test_a_process_killed_after_the_turn_committed_leaves_the_reply_to_the_outbox(
        runtime, telegram_api):
    """The turn committed, then the process died before sending: Telegram redelivers the
    update to another process, which does not answer it twice; the outbox sends the reply."""
    from bot.runtime import open_runtime

    died = TelegramChannel(runtime.engine, make_bot(TOKEN, telegram_api.url),
                           flush=lambda chat_id: asyncio.sleep(0))  # killed before sending
    family = FamilyMember(telegram_api, lambda update: died.dispatcher.feed_raw_update(died.bot, update))
    update = family.message(text="/start")
    await family.do(update)
    assert telegram_api.sent(family.chat_id) == []
    await died.bot.session.close()

    restarted = await open_runtime(runtime.settings, migrate=False)
    channel = TelegramChannel(restarted.engine, make_bot(TOKEN, telegram_api.url),
                              flush=partial(delivery.flush, restarted, "telegram"))
    restarted.senders["telegram"] = channel.deliver
    try:
        await channel.dispatcher.feed_raw_update(channel.bot, update)  # Telegram's redelivery
        await deliver_notifications(restarted)  # the worker of the new process
        await deliver_notifications(restarted)
    finally:
        await channel.bot.session.close()
        await restarted.close()
    texts = _texts(telegram_api, family)
    assert len(texts) == 2 and "上门护理服务" in texts[0] and "请问需要办理什么" in texts[1]
