"""The live inbox in real headless Chromium, beside a family on /try: the family asks for a
person and appears in the hotline's queue without a reload, its first-response timer turns red;
the hotline nurse takes over and the family reads that a person joined; the family's next
message arrives on the nurse's page by itself; a canned reply goes back; an internal note stays
inside. Screenshot of the live inbox: JIAHU_SCREENSHOT_DIR."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.models import ConversationNote, Notification, TranscriptEntry
from bot.notifier import deliver_notifications
from tests.backend.console.conftest import console_browser
from tests.backend.console.test_browser import SHOTS
from tests.browser import CHROMIUM

# Counts the tones the console plays (an oscillator started), so a test can hear them.
TONE_COUNTER = """
window.tones = 0;
const Original = window.AudioContext;
window.AudioContext = class extends Original {
  createOscillator() {
    const tone = super.createOscillator();
    const start = tone.start.bind(tone);
    tone.start = (...args) => { window.tones += 1; return start(...args); };
    return tone;
  }
};
"""

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]


async def test_a_family_waits_is_joined_and_answered_live(runtime, staff_accounts, clock, tmp_path):
    from playwright.async_api import expect

    async with console_browser(runtime) as browser:
        await browser.context.grant_permissions(["notifications"])
        await browser.context.add_init_script(TONE_COUNTER)
        nurse = await browser.page()
        await browser.login(nurse, "li.hotline")
        queue = nurse.locator("#queue")
        await expect(queue).to_contain_text("目前没有家属等待人工服务")
        await expect(nurse.get_by_role("button", name="桌面通知已开启")).to_be_disabled()
        await nurse.get_by_label("提示音").check()  # kept for the next pages

        family_context = await browser.chromium.new_context(viewport={"width": 390, "height": 760}, locale="zh-CN")
        family = await family_context.new_page()
        family.on("pageerror", lambda error: browser.errors.append(str(error)))
        await family.goto(browser.base + "/try")
        chat = family.get_by_role("log")
        text = family.get_by_label("输入消息")
        await family.get_by_role("button", name="预约上门护理").click()
        await family.get_by_role("button", name="1. 同意", exact=True).click()
        for message, expected in [("2", "什么人"), ("女儿", "您（申请人）的姓名"), ("张丽", "患者的姓名"),
                                  ("王秀英", "18位身份证号码"), ("11010519491231002X", "1949-12-31"),
                                  ("13800138000", "详细地址"), ("转人工", "已为您转接人工客服")]:
            await text.fill(message)
            await text.press("Enter")
            await expect(chat).to_contain_text(expected)

        # the queue on the dashboard, pushed: who waits, and her timer once 15 minutes have passed
        row = queue.locator("tbody tr").first
        await expect(row).to_contain_text("张丽（女儿）")
        await expect(nurse.locator("a[href='#queue'] b")).to_have_text("1")
        assert await nurse.evaluate("window.tones") == 1  # a tone for the family joining the queue
        await expect(row).to_contain_text("计时中")
        clock.advance(timedelta(minutes=16))
        await expect(row).to_contain_text("已超时")
        await expect(row).to_have_class("sla-red")
        await nurse.screenshot(path=str((SHOTS or tmp_path) / "console-live-queue.png"))

        # take-over: the family reads that a person joined
        await row.get_by_role("link", name="查看并接管").click()
        await nurse.get_by_role("button", name="接管对话").click()
        await expect(nurse.get_by_role("status")).to_contain_text("已接管对话")
        await deliver_notifications(runtime)
        await expect(chat).to_contain_text("人工客服李敏已接入")

        # the family writes; the message appears on the nurse's page without a reload
        await text.fill("我妈妈腿上的伤口有点渗液，明天能来换药吗？")
        await text.press("Enter")
        transcript = nurse.get_by_role("list", name="对话内容")
        await expect(transcript.locator(".msg.in").last).to_contain_text("伤口有点渗液")
        await expect(nurse.get_by_label("提示音")).to_be_checked()
        assert await nurse.evaluate("window.tones") >= 1  # and for her message

        # a canned reply, filled in for this conversation, sent as the nurse's message
        await nurse.get_by_label("常用回复").select_option(label="问候")
        await expect(nurse.get_by_label("写给家属")).to_have_value("您好，我是人工客服李敏，请问有什么可以帮您？")
        await nurse.get_by_role("button", name="发送").click()
        await expect(nurse.get_by_role("status")).to_contain_text("消息已发送给家属")
        await deliver_notifications(runtime)
        await expect(chat).to_contain_text("【人工客服 李敏】您好，我是人工客服李敏")
        await expect(transcript.locator(".msg.staff").last).to_contain_text("【人工客服 李敏】您好")

        # an internal note stays on the console
        await nurse.get_by_label("写备注").fill("家属说伤口渗液，已建议明早先电话评估。")
        await nurse.get_by_role("button", name="保存备注").click()
        await expect(nurse.get_by_role("list", name="内部备注")).to_contain_text("伤口渗液，已建议明早")
        await nurse.screenshot(path=str((SHOTS or tmp_path) / "console-live-inbox.png"), full_page=True)
        await expect(chat).not_to_contain_text("已建议明早")
        assert not browser.errors, browser.errors

    async with runtime.sessions() as session:
        said = [e.text or "" for e in (await session.execute(select(TranscriptEntry))).scalars()]
        notes = list((await session.execute(select(ConversationNote))).scalars())
        sent = list((await session.execute(select(Notification.text))).scalars())
    assert len(notes) == 1 and notes[0].author == "li.hotline"
    assert not any("已建议明早" in text for text in said + [t or "" for t in sent])
