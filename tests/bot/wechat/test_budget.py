"""WeChat's customer-service budget (issue #16): 5 messages within 48 hours of each family
message, counted per family across turns and notifications; replies are planned within what is
left, a spent budget sends notifications as 订阅通知 without trying, and staff see the window."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from wechatpy import parse_message

from backend import notify, service_window
from backend.db import transaction
from backend.models import ChannelUser
from bot.notifier import deliver_notifications
from bot.wechat import webhook as webhook_module
from flows.types import Outbound
from tests.backend.console.conftest import Staff, staff_accounts  # noqa: F401 - a fixture

from .fakes import Family, webhook_of  # noqa: TID252
from .test_delivery import slowed  # noqa: TID252
from .test_window import SUBSCRIPTION, _config  # noqa: TID252


async def _user(runtime: Any) -> ChannelUser:
    async with runtime.sessions() as session:
        return (await session.execute(select(ChannelUser))).scalar_one()


async def _left(runtime: Any) -> int:
    user = await _user(runtime)
    async with runtime.sessions() as session:
        window = await service_window.current(session, user.id)
    assert window is not None
    return window.left


async def _notify(runtime: Any, text: str) -> None:
    user = await _user(runtime)
    async with transaction(runtime.sessions) as session:
        await notify.notify_family(session, user.id, "staff.message", text=text, author="hotline.li")


async def test_five_messages_per_family_message_then_subscription_notifications(
        runtime: Any, fake_wechat: Any, family: Family, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _config(tmp_path, monkeypatch, SUBSCRIPTION)
    fake_wechat.accepted.add(family.openid)
    monkeypatch.setattr(webhook_module, "PASSIVE_WINDOW_SECONDS", 0.2)
    slowed(runtime, 0.4)
    await family.send(family.text("你好"))  # a slow turn: one customer-service message
    assert len(fake_wechat.sent) == 1 and await _left(runtime) == 4
    for n in range(5):
        await _notify(runtime, f"第{n + 1}条通知")
        assert await deliver_notifications(runtime) == 1
    assert len(fake_wechat.sent) == 5 and await _left(runtime) == 0
    sends = fake_wechat.calls.count("/cgi-bin/message/custom/send")
    assert [s["data"]["thing2"]["value"] for s in fake_wechat.subscriptions] == ["第5条通知"]
    assert sends == 5  # the sixth message was not even tried as a customer-service message

    await family.send(family.text("好的"))  # the family writes: a new window
    assert await _left(runtime) == 4


async def test_the_window_opens_in_the_turns_own_transaction(runtime: Any, client: Any, family: Family,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    class Died(Exception):
        pass

    async def died(*args: Any, **kwargs: Any) -> None:  # the process dies right after the turn's commit
        raise Died

    monkeypatch.setattr(webhook_of(client), "_after_turn", died)
    with pytest.raises(Died):
        await webhook_of(client).process(parse_message(family.text("你好")))
    assert await _left(runtime) == 5


async def test_a_turn_is_planned_within_what_is_left(runtime: Any, client: Any, fake_wechat: Any,
                                                     family: Family, png: bytes) -> None:
    await family.post(family.text("你好"))
    user = await _user(runtime)
    async with transaction(runtime.sessions) as session:
        for _ in range(3):
            await service_window.spend(session, user.id)
    document = Outbound(kind="document", text="这是您签署的知情同意书。", data=b"%PDF-1.7\n%%EOF\n",
                        filename="consent.pdf", content_type="application/pdf", pages=[png, png])
    await webhook_of(client).deliver(family.openid, [Outbound.say("预约已确认。"), document])
    assert [m["msgtype"] for m in fake_wechat.sent] == ["text", "text"]  # 2 left: no page images
    assert "预约已确认" in fake_wechat.sent[0]["text"]["content"]
    assert "知情同意书" in fake_wechat.sent[1]["text"]["content"] and await _left(runtime) == 0


async def test_staff_see_the_window_on_the_conversation_page(runtime: Any, client: Any, family: Family,
                                                             staff_accounts: Any, clock: Any) -> None:  # noqa: F811
    await family.send(family.text("你好"))
    user = await _user(runtime)
    staff = Staff(client)
    await staff.login("li.hotline")
    page = await (await client.get(f"/console/conversations/{user.id}")).text()
    until = (clock.now() + timedelta(hours=48)).astimezone(webhook_module.clock.local_now().tzinfo)
    assert f"客服消息：窗口至 {until:%m-%d %H:%M}，还可发 5 条" in page
    clock.advance(timedelta(hours=49))
    await staff.login("li.hotline")  # the session ended meanwhile
    page = await (await client.get(f"/console/conversations/{user.id}")).text()
    assert "客服消息窗口已关闭" in page
