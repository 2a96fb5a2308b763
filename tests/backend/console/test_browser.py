"""The console in real headless Chromium: a hotline nurse takes over a conversation and answers a
complaint; a nurse manager confirms a booking, is refused an unqualified nurse, assigns a qualified
one and downloads the sealed consent. Screenshots of the main pages: JIAHU_SCREENSHOT_DIR."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import care
from backend.db import transaction
from backend.models import AuditEntry, Booking, ChannelUser, Notification
from bot.notifier import deliver_notifications
from tests.backend.console.conftest import console_browser
from tests.browser import CHROMIUM
from tests.conftest import Dialogue

# README screenshots are refreshed with JIAHU_SCREENSHOT_DIR=docs; otherwise they go to tmp_path.
SHOTS = Path(os.environ["JIAHU_SCREENSHOT_DIR"]).resolve() if os.environ.get("JIAHU_SCREENSHOT_DIR") else None

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


async def _families(runtime, dialogue: Dialogue) -> dict[str, object]:
    """One family books a visit, one complains, one asks for a person in the middle of the intake."""
    await dialogue.intake()
    await deliver_notifications(runtime)  # the sealed consent
    number = re.search(r"JH\d{12}", dialogue.log[-1]).group()  # type: ignore[union-attr]
    complaining = Dialogue(runtime.engine, user_id="family-2")
    await complaining.play([("投诉", "发生了什么"), ("护士迟到了一个小时，也没有提前打电话", "和哪次预约有关"),
                            ("与预约无关", "怎么回复您"), ("在这里回复我", "编号：TS")])
    waiting = Dialogue(runtime.engine, user_id="family-3")
    await waiting.intake(until="address")
    await waiting.say("转人工")
    async with transaction(runtime.sessions) as session:
        senior = await care.add_worker(session, name="刘芳", role="nurse", title="主管护师", years_of_practice=8,
                                       registration_no="RN-110105-01", districts=["朝阳区", "东城区"],
                                       phone="13900000001", actor="test")
        junior = await care.add_worker(session, name="王小雨", role="nurse", title="护士", years_of_practice=2,
                                       registration_no="RN-110105-02", districts=["朝阳区"], phone=None,
                                       actor="test")
        family3 = (await session.execute(select(ChannelUser).where(
            ChannelUser.external_id == "family-3"))).scalar_one()
    return {"number": number, "senior": senior.id, "junior": junior.id, "waiting_user": family3.id}


async def test_a_day_at_the_console(runtime, dialogue, staff_accounts, tmp_path):
    from playwright.async_api import expect

    seeded = await _families(runtime, dialogue)
    async with console_browser(runtime, accept_downloads=True) as browser:
        page = await browser.page()
        errors = browser.errors
        nav = page.get_by_role("navigation", name="主导航")

        # the hotline nurse: the queue, a conversation taken over and answered
        await browser.login(page, "li.hotline")
        await expect(page.get_by_role("heading", name="工作台")).to_be_visible()
        await expect(page.get_by_role("link", name="统计")).to_have_count(0)
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-dashboard.png"), full_page=True)
        await page.get_by_role("link", name="查看并接管").click()
        await page.get_by_role("button", name="接管对话").click()
        await expect(page.get_by_role("status")).to_contain_text("已接管对话")
        await page.get_by_label("写给家属").fill("您好，我是热线护士李敏，地址我来帮您填写。")
        await page.get_by_role("button", name="发送").click()
        await expect(page.get_by_role("status")).to_contain_text("消息已发送给家属")
        async with runtime.sessions() as session:
            note = (await session.execute(select(Notification).where(
                Notification.kind == "staff.message"))).scalar_one()
        assert note.channel_user_id == seeded["waiting_user"] and note.author == "li.hotline"
        assert note.text == "【人工客服 李敏】您好，我是热线护士李敏，地址我来帮您填写。"
        await deliver_notifications(runtime)
        await page.reload()
        await expect(page.locator(".msg.staff").first).to_contain_text("人工客服李敏已接入")
        await expect(page.locator(".msg.staff").last).to_contain_text("【人工客服 李敏】您好，我是热线护士李敏")
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-conversation.png"))
        await page.get_by_role("button", name="交还机器人").click()
        await expect(page.get_by_role("status")).to_contain_text("已交还机器人")

        # find the booked family's conversation by booking number, with its photos inline
        await nav.get_by_role("link", name="对话记录").click()
        await page.get_by_label("查找").fill(str(seeded["number"]))
        await page.get_by_role("button", name="搜索").click()
        await page.get_by_role("link", name="王秀英").click()
        await expect(page.locator(".bubble img")).to_have_count(2)

        # the complaint, answered and closed
        await nav.get_by_role("link", name="投诉建议").click()
        await page.locator("table a").first.click()
        await page.get_by_label("答复（发送到家属的对话中）").fill("非常抱歉，已与护士核实并加强排班提醒。")
        await page.get_by_role("button", name="发送答复").click()
        await expect(page.get_by_role("status")).to_contain_text("答复已发送给家属")
        await page.get_by_role("button", name="关闭投诉").click()
        await expect(page.get_by_role("status")).to_contain_text("投诉已关闭")
        async with runtime.sessions() as session:
            answer = (await session.execute(select(Notification).where(
                Notification.kind == "complaint.answer"))).scalar_one()
        assert answer.payload["values"]["answer"] == "非常抱歉，已与护士核实并加强排班提醒。"
        await page.goto(browser.base + "/console/stats")
        await expect(page.get_by_role("heading", name="无权访问")).to_be_visible()
        await page.get_by_role("button", name="退出").click()

        # the nurse manager: confirm, an unqualified nurse refused, a qualified one assigned
        await browser.login(page, "zhao.manager")
        await nav.get_by_role("link", name="预约管理").click()
        await page.get_by_role("link", name=str(seeded["number"])).click()
        await page.get_by_role("button", name="确认预约").click()
        await expect(page.get_by_role("status")).to_contain_text("预约已确认")
        await page.get_by_label("护理人员").select_option(str(seeded["junior"]))
        await page.get_by_role("button", name="指派", exact=True).click()
        alert = page.get_by_role("alert")
        await expect(alert).to_contain_text("不符合派单条件")
        await expect(alert).to_contain_text("护士需至少 5 年执业经历（现为 2 年）")
        await expect(alert).to_contain_text("职称“护士”低于护师")
        await page.get_by_label("护理人员").select_option(str(seeded["senior"]))
        await page.get_by_role("button", name="指派", exact=True).click()
        await expect(page.get_by_role("status")).to_contain_text("已指派护理人员")
        await expect(page.locator("h1 .state")).to_have_text("已派护士")
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-booking.png"), full_page=True)
        async with page.expect_download() as waiting_download:
            await page.get_by_role("link", name="下载已签章 PDF").click()
        download = await waiting_download.value
        consent = Path(await download.path()).read_bytes()
        assert consent.startswith(b"%PDF")

        await page.goto(browser.base + "/console/stats")
        await expect(page.locator("svg.chart").first).to_be_visible()
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-stats.png"), full_page=True)
        assert not errors, errors
    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking).where(Booking.number == seeded["number"]))).scalar_one()
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert booking.status == "assigned" and booking.nurse_id == seeded["senior"]
    assert {"pii.consent_downloaded", "conversation.taken_over", "conversation.staff_message",
            "complaint.answered", "complaint.closed", "booking.confirmed", "booking.assigned"} <= actions


async def test_erasure_alarm_and_schedule_in_the_browser(runtime, dialogue, staff_accounts, tmp_path):
    """The hotline nurse carries out a deletion after confirming it; the nurse manager marks an
    alarm handled and is told why a booked window cannot be shrunk."""
    from playwright.async_api import expect

    from backend import visits

    await dialogue.intake()
    asking = Dialogue(runtime.engine, user_id="family-2")
    await asking.intake(until="q_feeding")
    await asking.say("取消")
    await asking.play([("我的个人信息", "查看还是删除"), ("删除我的信息", "确定要删除吗"),
                       ("是", "已收到您的删除申请")])
    async with transaction(runtime.sessions) as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        booking.status = "assigned"
        await visits.report(session, booking, "alarm", "nurse", note="老人跌倒")
    async with console_browser(runtime) as browser:
        page = await browser.page()
        errors = browser.errors
        nav = page.get_by_role("navigation", name="主导航")

        await browser.login(page, "li.hotline")
        await expect(nav.get_by_role("link", name="排班")).to_have_count(0)
        await nav.get_by_role("link", name="个人信息申请").click()
        await page.get_by_role("link", name="执行删除").click()
        await page.get_by_label("我已核实申请，确认删除").check()
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-data-request.png"), full_page=True)
        await page.get_by_role("button", name="执行删除").click()
        await expect(page.get_by_role("status")).to_contain_text("已按申请删除个人信息")
        await expect(page.locator("#outcome")).to_contain_text("已删除上传的文件 2 个")
        await expect(page.get_by_role("button", name="执行删除")).to_have_count(0)
        await page.get_by_role("button", name="退出").click()

        await browser.login(page, "zhao.manager")
        await expect(nav.get_by_role("link", name="个人信息申请")).to_have_count(0)
        await page.get_by_label("处理说明").fill("已联系家属")
        await page.get_by_role("button", name="已处理").click()
        await expect(page.get_by_role("status")).to_contain_text("报警已标记为已处理")
        await expect(page.locator("#alarms")).to_contain_text("没有未处理的报警")

        await nav.get_by_role("link", name="排班").click()
        await page.get_by_label("区域").select_option(booking.district)
        await page.get_by_role("button", name="查看").click()
        row = page.locator("tr", has=page.locator(f'form[action$="/{booking.slot_id}/capacity"]'))
        await row.get_by_role("spinbutton").fill("0")
        await row.get_by_role("button", name="保存").click()
        await expect(page.get_by_role("alert")).to_contain_text("该时段已有 1 个预约")
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-schedule.png"), full_page=True)
        assert not errors, errors
    async with runtime.sessions() as session:
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert {"data_request.erased", "visit.alarm_handled"} <= actions and "slot.capacity" not in actions
