"""Notifications after WeChat's 48-hour customer-service window: a template message when the
hospital configured one, otherwise the notification is retried, never counted as sent."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend import clock, notify
from backend.db import transaction
from backend.models import ChannelUser, Notification
from bot.notifier import deliver_notifications


async def _queue_staff_message(runtime: Any, family: Any) -> None:
    await family.post(family.event("subscribe"))
    async with transaction(runtime.sessions) as session:
        user = (await session.execute(select(ChannelUser))).scalar_one()
        await notify.notify_family(session, user.id, "staff.message", text="您好，护士明天上午九点到。",
                                   author="hotline.li")


async def _staff_message(runtime) -> Notification:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return (await session.execute(select(Notification).where(
            Notification.kind == "staff.message"))).scalar_one()


async def test_outside_the_window_without_a_template_is_retried(runtime, client, fake_wechat, family):
    await _queue_staff_message(runtime, family)
    fake_wechat.window_closed = True
    assert await deliver_notifications(runtime) == 0
    note = await _staff_message(runtime)
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


def _config(tmp_path, monkeypatch, text: str) -> None:  # type: ignore[no-untyped-def]
    from backend.settings import get_settings

    (tmp_path / "config").mkdir(exist_ok=True)
    (tmp_path / "config" / "wechat_templates.yaml").write_text(text, "utf-8")
    monkeypatch.setenv("JIAHU_CONFIG_DIR", str(tmp_path / "config"))
    get_settings.cache_clear()


SUBSCRIPTION = ("subscribe:\n  template_id: SUB-progress\n  fields: {title: thing1, content: thing2, time: time3}\n"
                "  title: 家护服务通知\n  page: https://jiahu.example-hospital.cn/try\n")


async def test_outside_the_window_a_subscription_notification_goes_out(runtime, client, fake_wechat, family,
                                                                      tmp_path, monkeypatch):
    """subscribe/bizsend, as the family accepted it; a long text is cut to a thing's 20 characters."""
    _config(tmp_path, monkeypatch, SUBSCRIPTION)
    await _queue_staff_message(runtime, family)
    fake_wechat.window_closed = True
    fake_wechat.accepted.add(family.openid)
    assert await deliver_notifications(runtime) == 1
    [sent] = fake_wechat.subscriptions
    assert sent["touser"] == family.openid and sent["template_id"] == "SUB-progress"
    assert sent["page"] == "https://jiahu.example-hospital.cn/try"
    assert sent["data"]["thing1"]["value"] == "家护服务通知"
    assert sent["data"]["thing2"]["value"] == "您好，护士明天上午九点到。"
    assert sent["data"]["time3"]["value"].startswith(str(clock.local_now().year))
    assert fake_wechat.templates == []


async def test_long_text_is_cut_to_what_a_thing_holds(runtime, client, fake_wechat, family, tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, SUBSCRIPTION)
    await family.post(family.event("subscribe"))
    async with transaction(runtime.sessions) as session:
        user = (await session.execute(select(ChannelUser))).scalar_one()
        await notify.notify_family(session, user.id, "staff.message",
                                   text="您好，您预约的上门换药已确认，护士刘芳明天上午九点到十点之间到达，请提前准备好病历。")
    fake_wechat.window_closed = True
    fake_wechat.accepted.add(family.openid)
    assert await deliver_notifications(runtime) == 1
    value = fake_wechat.subscriptions[0]["data"]["thing2"]["value"]
    assert len(value) == 20 and value.endswith("…") and value.startswith("您好，您预约的上门换药已确认")


async def test_a_family_who_did_not_accept_gets_the_template_message(runtime, client, fake_wechat, family,
                                                                    tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, SUBSCRIPTION + "template_id: TPL-progress\n"
            "fields: {title: first, content: keyword1, time: keyword2, remark: remark}\ntitle: 家护服务通知\n")
    await _queue_staff_message(runtime, family)
    fake_wechat.window_closed = True  # and no subscription accepted: bizsend answers 43101
    assert await deliver_notifications(runtime) == 1
    assert fake_wechat.subscriptions == [] and len(fake_wechat.templates) == 1


async def test_without_acceptance_or_template_the_notification_waits(runtime, client, fake_wechat, family,
                                                                    tmp_path, monkeypatch):
    _config(tmp_path, monkeypatch, SUBSCRIPTION)
    await _queue_staff_message(runtime, family)
    fake_wechat.window_closed = True
    assert await deliver_notifications(runtime) == 0
    note = await _staff_message(runtime)
    assert note.status == "pending" and "43101" in note.last_error
