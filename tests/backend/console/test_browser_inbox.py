"""The inbox in real headless Chromium: the nurse manager reviews a booking against its assessment
card; a hotline nurse finds the caller by the applicant's name and reveals the phone to call back."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.models import AuditEntry
from tests.backend.console.conftest import console_browser
from tests.backend.console.test_browser import SHOTS
from tests.browser import CHROMIUM

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]


async def test_review_with_the_assessment_card_and_a_call_back(runtime, dialogue, staff_accounts, tmp_path):
    from playwright.async_api import expect

    await dialogue.intake()
    async with console_browser(runtime) as browser:
        page = await browser.page()
        errors = browser.errors
        nav = page.get_by_role("navigation", name="主导航")

        await browser.login(page, "zhao.manager")
        await nav.get_by_role("link", name="预约管理").click()
        await page.locator("table a").first.click()
        card = page.get_by_role("region", name="评估")
        await expect(card).to_contain_text("65")
        await expect(card).to_contain_text("轻度依赖")
        await expect(card.get_by_role("list", name="风险提示")).to_have_text("⚠ 过敏：青霉素过敏")
        await expect(card.locator("tr.flagged")).to_contain_text("青霉素过敏")
        thumbs = card.locator("img.thumb")
        await expect(thumbs).to_have_count(2)
        assert await thumbs.first.evaluate("img => img.complete && img.naturalWidth > 0")
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-booking-review.png"), full_page=True)
        await page.get_by_role("button", name="退出").click()

        await browser.login(page, "li.hotline")
        await nav.get_by_role("link", name="对话记录").click()
        await page.get_by_label("查找").fill("张丽")
        await page.get_by_role("button", name="搜索").click()
        await page.get_by_role("link", name="王秀英").click()
        await expect(page.get_by_role("region", name="评估")).to_contain_text("过敏：青霉素过敏")
        phone = page.locator("dd.phone")
        await expect(phone).to_contain_text("138****8000")
        await phone.get_by_role("button", name="显示完整号码").click()
        await expect(page.locator("dd.phone a[href='tel:13800138000']")).to_have_text("13800138000")
        assert not errors, errors
    async with runtime.sessions() as session:
        actions = set((await session.execute(select(AuditEntry.action))).scalars())
    assert {"pii.booking_viewed", "pii.phone_revealed"} <= actions
