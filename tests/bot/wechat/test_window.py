"""Notifications after WeChat's 48-hour customer-service window: a template message when the
hospital configured one, otherwise the notification is retried, never counted as sent."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend import notify
from backend.db import transaction
from backend.models import ChannelUser, Notification
from bot.notifier import deliver_notifications


async def _queue_staff_message(runtime: Any, family: Any) -> None:
    await family.post(family.event("subscribe"))
    async with transaction(runtime.sessions) as session:
        user = (await session.execute(select(ChannelUser))).scalar_one()
        await notify.notify_family(session, user.id, "staff.message", text="您好，护士明天上午九点到。",
                                   author="hotline.li")


async def test_outside_the_window_without_a_template_is_retried(runtime, client, fake_wechat, family):
    await _queue_staff_message(runtime, family)
    fake_wechat.window_closed = True
    assert await deliver_notifications(runtime) == 0
    async with runtime.sessions() as session:
        note = (await session.execute(select(Notification).where(
            Notification.kind == "staff.message"))).scalar_one()
    assert note.status == "pending" and note.attempts == 1 and "45015" in note.last_error
    assert fake_wechat.templates == []


async def test_outside_the_window_a_template_message_goes_out(runtime, client, fake_wechat, family,
                                                             tmp_path, monkeypatch):
    from backend.settings import get_settings

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "wechat_templates.yaml").write_text(
        "template_id: TPL-progress\nfields: {title: first, content: keyword1, time: keyword2, remark: remark}\n"
        "title: 家护服务通知\nremark: 回复任意消息可继续办理。\n", "utf-8")
    monkeypatch.setenv("JIAHU_CONFIG_DIR", str(tmp_path / "config"))
    get_settings.cache_clear()
    await _queue_staff_message(runtime, family)
    fake_wechat.window_closed = True
    assert await deliver_notifications(runtime) == 1
    [sent] = fake_wechat.templates
    assert sent["template_id"] == "TPL-progress" and sent["touser"] == family.openid
    assert sent["data"]["keyword1"]["value"] == "您好，护士明天上午九点到。"
    assert sent["data"]["first"]["value"] == "家护服务通知" and sent["data"]["keyword2"]["value"]
