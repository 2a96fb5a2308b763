"""Customer-service messages go through the durable outbox: a 5xx from WeChat delays them, a
process that died right after the turn committed leaves them to WeChat's retry or to the
outbox, and a family who unfollowed is given up with the reason recorded."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from backend.models import Notification, TranscriptEntry
from bot.notifier import deliver_notifications
from bot.wechat import webhook as webhook_module
from flows.types import Inbound, Outbound

from .fakes import Family, webhook_of  # noqa: TID252
from .test_delivery import _returning, slowed  # noqa: TID252


async def _replies(runtime: Any) -> list[Notification]:
    async with runtime.sessions() as session:
        return list((await session.execute(select(Notification).where(Notification.kind == "reply")
                                           .order_by(Notification.id))).scalars())


async def test_a_502_delays_a_slow_turns_answer_which_then_arrives_once(
        runtime: Any, fake_wechat: Any, family: Family, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_module, "PASSIVE_WINDOW_SECONDS", 0.2)
    slowed(runtime, 0.5)
    fake_wechat.failures = [502]
    assert await family.post(family.event("CLICK", "book")) == (200, "success")
    await webhook_of(family.client).drain()
    assert fake_wechat.sent == []
    [row] = await _replies(runtime)
    assert row.status == "pending" and row.attempts == 1 and "502" in row.last_error

    clock.advance(timedelta(seconds=6))
    assert await deliver_notifications(runtime) == 1
    assert await deliver_notifications(runtime) == 0
    [message] = fake_wechat.sent
    assert "个人信息处理告知" in message["text"]["content"]
    assert [r.status for r in await _replies(runtime)] == ["sent"]


async def test_a_failure_in_the_middle_resumes_after_what_was_sent(
        runtime: Any, client: Any, fake_wechat: Any, family: Family, clock: Any, png: bytes) -> None:
    pdf = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"
    document = Outbound(kind="document", text="这是您签署的知情同意书。", data=pdf,
                        filename="consent.pdf", content_type="application/pdf", pages=[png, png])
    runtime.engine.handle = _returning(runtime, [Outbound.say("预约已确认。"), document])
    fake_wechat.failures = [0, 0, -1]  # the second page image: WeChat's "system error"
    assert await family.post(family.text("确认")) == (200, "success")
    await webhook_of(client).drain()
    assert [m["msgtype"] for m in fake_wechat.sent] == ["text", "image"]
    [row] = await _replies(runtime)
    assert row.payload["done"] == 2 and row.attempts == 1

    clock.advance(timedelta(seconds=6))
    assert await deliver_notifications(runtime) == 1
    assert [m["msgtype"] for m in fake_wechat.sent] == ["text", "image", "image", "text"]
    assert fake_wechat.sent[0]["text"]["content"] == "预约已确认。"
    assert "知情同意书" in fake_wechat.sent[3]["text"]["content"]


def _committed_turn(family: Family, msg_id: int) -> Inbound:
    """What the webhook hands the engine for a text message (then the process dies)."""
    return Inbound(channel="wechat", user_id=family.openid, kind="text", text="你好",
                   message_id=str(msg_id), retry_expects_answer=True, outbox=True,
                   outbox_hold_seconds=webhook_module.OUTBOX_HOLD_SECONDS)


async def test_killed_after_commit_then_wechats_retry_gets_the_answer_once(
        runtime: Any, fake_wechat: Any, family: Family, clock: Any) -> None:
    await runtime.engine.handle(_committed_turn(family, 9001))  # committed; no answer reached WeChat
    status, body = await family.post(family.text("你好", msg_id=9001))  # WeChat's retry
    assert status == 200 and "预约上门护理" in family.passive(body)["Content"]  # type: ignore[index]
    clock.advance(timedelta(seconds=30))
    assert await deliver_notifications(runtime) == 0
    assert fake_wechat.sent == []  # answered once, passively
    [row] = await _replies(runtime)
    assert row.status == "sent" and row.held_for == "9001"  # the mark of the passive reply


async def test_a_passive_reply_settles_the_replies_of_its_own_message_only(
        runtime: Any, fake_wechat: Any, family: Family, clock: Any) -> None:
    other = Family(family.client, family.fake, openid="oWx_family_0002")
    await runtime.engine.handle(_committed_turn(family, 9003))
    await runtime.engine.handle(_committed_turn(other, 9004))  # its process died too: no retry came
    status, body = await family.post(family.text("你好", msg_id=9003))
    assert status == 200 and family.passive(body) is not None
    clock.advance(timedelta(seconds=webhook_module.OUTBOX_HOLD_SECONDS + 1))
    assert await deliver_notifications(runtime) == 1
    [message] = fake_wechat.sent
    assert message["touser"] == other.openid
    assert [(r.status, r.held_for) for r in await _replies(runtime)] == [("sent", "9003"), ("sent", None)]


async def test_killed_after_commit_without_a_retry_the_outbox_sends_the_answer(
        runtime: Any, client: Any, fake_wechat: Any, family: Family, clock: Any) -> None:
    await runtime.engine.handle(_committed_turn(family, 9002))
    assert await deliver_notifications(runtime) == 0  # held for WeChat's retries first
    clock.advance(timedelta(seconds=webhook_module.OUTBOX_HOLD_SECONDS + 1))
    assert await deliver_notifications(runtime) == 1
    [message] = fake_wechat.sent
    assert message["touser"] == family.openid and "预约上门护理" in message["text"]["content"]


async def test_a_family_who_unfollowed_is_given_up_with_the_reason(
        runtime: Any, fake_wechat: Any, family: Family, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_module, "PASSIVE_WINDOW_SECONDS", 0.2)
    slowed(runtime, 0.5)
    fake_wechat.failures = [43004]
    assert await family.post(family.text("你好")) == (200, "success")
    await webhook_of(family.client).drain()
    [row] = await _replies(runtime)
    assert row.status == "failed" and row.attempts == 1 and "43004" in row.last_error
    clock.advance(timedelta(hours=2))
    assert await deliver_notifications(runtime) == 0 and fake_wechat.sent == []


async def test_a_failed_turns_apology_is_answered_once(runtime: Any, fake_wechat: Any, family: Family,
                                                      clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(turn: Any, state: Any) -> None:
        raise RuntimeError("a bug in a step")

    monkeypatch.setattr(runtime.engine, "_dispatch", broken)
    status, body = await family.post(family.text("你好"))
    assert status == 200 and "抱歉" in family.passive(body)["Content"]  # type: ignore[index]
    clock.advance(timedelta(seconds=30))
    assert await deliver_notifications(runtime) == 0 and fake_wechat.sent == []
    assert [r.status for r in await _replies(runtime)] == ["sent"]


async def test_an_answered_message_is_remembered_by_its_answer_alone_then_forgotten(
        runtime: Any, family: Family, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    monkeypatch.setattr(webhook_module, "RETRY_MEMORY_SECONDS", 0.3)
    status, body = await family.post(family.text("你好", msg_id=9100))
    answer = family.passive(body)["Content"]  # type: ignore[index]
    webhook = webhook_of(family.client)
    remembered = webhook._pending["9100"]
    assert remembered.claimed and remembered.task is None  # no finished task (and its replies) kept
    assert remembered.passive == answer

    status, body = await family.post(family.text("你好", msg_id=9100))  # WeChat's retry: no second turn
    assert status == 200 and family.passive(body)["Content"] == answer  # type: ignore[index]
    async with runtime.sessions() as session:
        inbound = (await session.execute(select(func.count()).select_from(TranscriptEntry).where(
            TranscriptEntry.direction == "in"))).scalar_one()
    assert inbound == 1

    await asyncio.sleep(0.35)
    await family.post(family.text("菜单", msg_id=9101))  # the next message sweeps what expired
    assert "9100" not in webhook._pending and "9101" in webhook._pending
