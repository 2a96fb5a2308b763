"""The 5-second rule: slow turns go out through the customer-service API, retries once."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.wechat import webhook as webhook_module
from flows.types import Inbound, Outbound

from .fakes import Family, webhook_of  # noqa: TID252


def slowed(runtime: Any, seconds: float) -> list[Inbound]:
    """Make every turn take ``seconds`` longer; returns the Inbounds the engine received."""
    seen: list[Inbound] = []
    handle = runtime.engine.handle

    async def slow(inbound: Inbound) -> Any:
        seen.append(inbound)
        await asyncio.sleep(seconds)
        return await handle(inbound)

    runtime.engine.handle = slow
    return seen


async def test_slow_turn_answers_success_then_customer_service(
        runtime: Any, fake_wechat: Any, family: Family, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_module, "PASSIVE_WINDOW_SECONDS", 0.2)
    slowed(runtime, 0.6)
    started = asyncio.get_running_loop().time()
    assert await family.post(family.event("CLICK", "book")) == (200, "success")
    assert asyncio.get_running_loop().time() - started < 0.5
    assert fake_wechat.sent == []
    await webhook_of(family.client).drain()
    assert len(fake_wechat.sent) == 1  # the turn's replies merged into one message
    message = fake_wechat.sent[0]
    assert message["touser"] == family.openid and message["msgtype"] == "text"
    assert "个人信息处理告知" in message["text"]["content"]


async def test_message_delivered_three_times_is_answered_once(
        runtime: Any, fake_wechat: Any, family: Family, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhook_module, "PASSIVE_WINDOW_SECONDS", 0.2)
    seen = slowed(runtime, 0.7)
    xml = family.text("你好")
    first = asyncio.create_task(family.post(xml))
    await asyncio.sleep(0.3)  # WeChat retries while the turn still runs ...
    second = asyncio.create_task(family.post(xml))
    await asyncio.sleep(0.1)
    third = asyncio.create_task(family.post(xml))
    answers = await asyncio.gather(first, second, third)
    assert answers == [(200, "success")] * 3
    await webhook_of(family.client).drain()
    assert len(seen) == 1
    assert len(fake_wechat.sent) == 1


async def test_retry_after_a_passive_reply_gets_the_same_reply(runtime: Any, fake_wechat: Any,
                                                                family: Family) -> None:
    seen = slowed(runtime, 0)
    xml = family.text("你好")
    first = await family.post(xml)
    again = await family.post(xml)
    assert family.passive(first[1])["Content"] == family.passive(again[1])["Content"]  # type: ignore[index]
    assert "预约上门护理" in family.passive(first[1])["Content"]  # type: ignore[index]
    assert len(seen) == 1 and fake_wechat.sent == []


async def test_retry_reaching_another_process_gets_the_committed_answer(runtime: Any, fake_wechat: Any,
                                                                       family: Family) -> None:
    """The process that committed the turn died before WeChat got the answer: WeChat's retry
    of that MsgId, reaching another process, gets the answer the turn stored."""
    from bot.app import create_app
    from bot.runtime import open_runtime

    xml = family.text("你好")
    status, body = await family.post(xml)
    assert family.passive(body) is not None
    second_process = await open_runtime(runtime.settings, migrate=False)
    other = TestClient(TestServer(create_app(second_process), host="127.0.0.1"))
    await other.start_server()
    try:
        query, payload = family.query_and_body(xml)
        response = await other.post("/wechat", params=query, data=payload.encode())
        assert response.status == 200
        retried = family.passive(await response.text())
        await webhook_of(other).drain()
    finally:
        await other.close()
        await second_process.close()
    assert retried is not None and retried["Content"] == family.passive(body)["Content"]  # type: ignore[index]
    assert "预约上门护理" in retried["Content"] and fake_wechat.sent == []


async def test_long_turn_is_split_into_messages_of_at_most_2048_bytes(
        runtime: Any, fake_wechat: Any, family: Family) -> None:
    paragraph = "护理须知：" + "请保持伤口清洁干燥，按时换药。" * 20
    runtime.engine.handle = _returning(runtime, [Outbound.say(paragraph) for _ in range(8)])
    assert await family.post(family.text("须知")) == (200, "success")
    await webhook_of(family.client).drain()
    sizes = [len(m["text"]["content"].encode()) for m in fake_wechat.sent]
    assert 1 < len(sizes) <= 5 and max(sizes) <= 2048


async def test_document_goes_out_as_page_images_and_a_signed_link(
        runtime: Any, client: Any, fake_wechat: Any, family: Family, png: bytes) -> None:
    pdf = b"%PDF-1.7\n" + b"0" * 2000 + b"\n%%EOF\n"
    document = Outbound(kind="document", text="这是您签署的知情同意书。", data=pdf,
                        filename="consent.pdf", content_type="application/pdf", pages=[png, png])
    runtime.engine.handle = _returning(runtime, [Outbound.say("预约已确认。"), document])
    assert await family.post(family.text("确认")) == (200, "success")
    await webhook_of(client).drain()

    kinds = [m["msgtype"] for m in fake_wechat.sent]
    assert kinds == ["text", "image", "image", "text"]
    assert [fake_wechat.uploads[m["image"]["media_id"]] for m in fake_wechat.sent[1:3]] == [png, png]
    link_text = fake_wechat.sent[3]["text"]["content"]
    assert "知情同意书" in link_text
    url = link_text.split(": ", 1)[1]
    assert url.startswith("https://jiahu.example-hospital.cn/d/")
    download = await client.get(url.removeprefix("https://jiahu.example-hospital.cn"))
    assert download.status == 200 and await download.read() == pdf


def _returning(runtime: Any, replies: list[Outbound]) -> Any:
    """An engine whose turns answer ``replies``, queued in the outbox as the engine queues them."""
    from datetime import timedelta

    from backend import conversations, notify
    from backend.db import transaction

    async def handle(inbound: Inbound) -> list[Outbound]:
        async with transaction(runtime.sessions) as session:
            user = await conversations.get_or_create_user(session, inbound.channel, inbound.user_id)
            await notify.queue_replies(session, user.id, [r.dump() for r in replies],
                                       message_id=inbound.message_id,
                                       hold=timedelta(seconds=inbound.outbox_hold_seconds))
        return replies

    return handle


async def test_a_slow_turn_shows_typing_a_quick_one_does_not(
        runtime: Any, fake_wechat: Any, family: Family, monkeypatch: pytest.MonkeyPatch) -> None:
    assert await family.send(family.text("你好"))  # quick: answered passively, no typing
    assert fake_wechat.typing == []
    monkeypatch.setattr(webhook_module, "PASSIVE_WINDOW_SECONDS", 0.2)
    slowed(runtime, 0.5)
    assert await family.post(family.text("我想预约")) == (200, "success")
    await webhook_of(family.client).drain()
    assert fake_wechat.typing == [{"touser": family.openid, "command": "Typing"}]
