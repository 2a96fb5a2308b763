"""The funnel page in real headless Chromium: the nurse manager reads how many families reached
each stage this week, where the others stopped, the hand-off rate and the first human answer."""
from __future__ import annotations

import pytest

from tests.backend.console.conftest import console_browser
from tests.backend.console.test_browser import SHOTS
from tests.backend.test_funnel import four_families
from tests.browser import CHROMIUM

pytestmark = [pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]


async def test_the_nurse_manager_reads_the_funnel(runtime, staff_accounts, clock, tmp_path):
    from playwright.async_api import expect

    await four_families(runtime, clock)
    async with console_browser(runtime) as browser:
        page = await browser.page()
        await browser.login(page, "zhao.manager")
        await page.get_by_role("navigation", name="主导航").get_by_role("link", name="统计").click()
        await page.get_by_role("link", name="转化漏斗 →").click()
        await expect(page.get_by_role("heading", name="转化漏斗", exact=False).first).to_be_visible()
        tiles = page.locator("ul.tiles")
        await expect(tiles).to_contain_text("3开始对话")
        await expect(tiles).to_contain_text("1预约成功（33%）")
        await expect(tiles).to_contain_text("33%转人工率")
        await expect(tiles).to_contain_text("12 分钟首次人工响应（中位数）")
        await expect(page.get_by_role("region", name="漏斗").locator("svg.chart")).to_be_visible()
        await expect(page.get_by_role("region", name="停在哪一步")).to_contain_text("预约申请 · 评估问卷（进食）")
        this_week = page.get_by_role("table", name="按周转化").locator("tbody tr").last
        await expect(this_week).to_contain_text("开始对话 → 同意个人信息告知")  # where most were lost
        await page.screenshot(path=str((SHOTS or tmp_path) / "console-funnel.png"), full_page=True)
        assert not browser.errors, browser.errors
