"""``/try`` in real headless Chromium: a family member taps, types and sends a photo."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.bot.tryout.conftest import tryout_app
from tests.browser import CHROMIUM, serving
from tests.conftest import HAPPY_PATH

# Screenshots for the README are refreshed with JIAHU_SCREENSHOT_DIR=docs; by default they stay
# out of the work tree.
SCREENSHOT_DIR = Path(os.environ["JIAHU_SCREENSHOT_DIR"]).resolve() if os.environ.get("JIAHU_SCREENSHOT_DIR") else None

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed (apt-get install chromium)")


async def test_a_family_member_books_in_the_browser(runtime, tmp_path: Path, png: bytes):
    from playwright.async_api import expect

    photo = tmp_path / "身份证.png"
    photo.write_bytes(png)
    async with serving(tryout_app(runtime)) as (server, chromium):
        page = await chromium.new_page(viewport={"width": 390, "height": 844},
                                       device_scale_factor=2, locale="zh-CN")
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(str(server.make_url("/try")))
        log = page.get_by_role("log")

        await page.get_by_role("button", name="预约上门护理").click()
        await expect(log).to_contain_text("个人信息处理告知")
        await page.get_by_role("button", name="1. 同意", exact=True).click()
        await expect(log).to_contain_text("家属代为申请")
        await expect(page.get_by_role("button", name="预约上门护理")).to_be_disabled()

        text = page.get_by_label("输入消息")
        for message, expected in [("2", "什么人"), ("女儿", "您（申请人）的姓名"),
                                  ("张丽", "患者的姓名"), ("王秀英", "18位身份证号码"),
                                  ("11010519491231002X", "1949-12-31"),
                                  ("13800138000", "详细地址"),
                                  ("北京市朝阳区望京街道花家地小区3号楼2单元501", "身份证的正面照片")]:
            await text.fill(message)
            await text.press("Enter")
            await expect(log).to_contain_text(expected)

        await page.locator("#file").set_input_files(str(photo))
        await expect(log).to_contain_text("身份证照片已收到")
        await expect(log.locator(".row.me img")).to_have_count(1)

        # … and on to the booking number, as the rest of the happy path goes
        rest = HAPPY_PATH[[name for name, _, _ in HAPPY_PATH].index("upload_records"):]
        for _, message, expected in rest:
            if message == "<record>":
                await page.locator("#file").set_input_files(str(photo))
            else:
                await text.fill(message)
                await text.press("Enter")
            await expect(log).to_contain_text(expected)
        await expect(log).to_contain_text(re.compile(r"预约编号：JH\d{12}"))
        assert not errors, errors

        shot = (SCREENSHOT_DIR or tmp_path) / "try-chat.png"
        await page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000


async def test_the_page_draws_every_kind_of_reply_and_errors_politely(runtime, png: bytes):
    """The API answered by stubs: multi-select buttons, a document, an image, then failures."""
    import json

    from playwright.async_api import Route, expect

    from bot.tryout.render import data_uri

    replies = [
        {"kind": "choices", "text": "需要哪些服务？", "multiple": True, "context": "0badc0de",
         "choices": [{"id": "a", "label": "换药", "number": 1}, {"id": "b", "label": "导尿", "number": 2},
                     {"id": "c", "label": "采血", "number": 3}]},
        {"kind": "document", "text": "知情同意书（已签名）", "filename": "知情同意书.pdf",
         "url": "/d/7/consent.pdf?exp=1&sig=x", "pages": [data_uri(png)]},
        {"kind": "image", "text": "伤口照片示例", "filename": "wound.png", "src": data_uri(png)},
    ]
    sent: list[dict[str, object]] = []
    answers = [(200, {"replies": [{"kind": "text", "text": "好的，已选择换药和采血。"}]}),
               (500, {"error": "系统暂时有点忙，请稍后再试。"})]

    async def start(route: Route) -> None:
        await route.fulfill(status=200, content_type="application/json", body=json.dumps({"replies": replies}))

    async def message(route: Route) -> None:
        sent.append(route.request.post_data_json)
        if not answers:
            await route.abort("internetdisconnected")
            return
        status, body = answers.pop(0)
        await route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    async with serving(tryout_app(runtime)) as (server, chromium):
        page = await chromium.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
        await page.route("**/try/api/start", start)
        await page.route("**/try/api/message", message)
        await page.goto(str(server.make_url("/try")))
        log = page.get_by_role("log")

        await expect(page.get_by_role("img", name="文件第 1 页")).to_be_visible()
        link = page.get_by_role("link", name="下载 知情同意书.pdf")
        assert await link.get_attribute("href") == "/d/7/consent.pdf?exp=1&sig=x"
        await expect(page.get_by_role("img", name="伤口照片示例")).to_be_visible()

        await page.get_by_role("button", name="确定").click()
        await expect(log).to_contain_text("请至少选择一项")
        for label in ("1. 换药", "2. 导尿", "3. 采血", "2. 导尿"):  # 导尿 on, then off again
            await page.get_by_role("button", name=label).click()
        await expect(page.get_by_role("button", name="3. 采血")).to_have_attribute("aria-pressed", "true")
        await page.get_by_role("button", name="确定").click()
        await expect(log).to_contain_text("好的，已选择换药和采血。")
        assert sent[0]["text"] == "1,3" and sent[0]["context"] == "0badc0de"
        await expect(page.get_by_role("button", name="1. 换药")).to_be_disabled()

        text = page.get_by_label("输入消息")
        await text.fill("你好")
        await page.get_by_role("button", name="发送", exact=True).click()
        await expect(page.get_by_role("alert")).to_contain_text("系统暂时有点忙")

        await text.fill("还在吗")
        await text.press("Enter")
        await expect(page.get_by_role("alert").last).to_contain_text("网络好像有点问题")
        await page.get_by_role("button", name="重新发送").click()
        await expect(page.get_by_role("alert").last).to_contain_text("网络好像有点问题")
        assert sent[-1]["message_id"] == sent[-2]["message_id"]  # a resend is the same message


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]")


async def _furniture(page) -> str:  # type: ignore[no-untyped-def]
    """Every word of the page outside the conversation: texts, titles, labels, placeholders
    (a <noscript> is never shown with scripts on, and is in the language the page began in)."""
    return await page.evaluate("""() => [document.title,
        ...[...document.querySelectorAll('header, .notice, form')].map(n => n.innerText),
        ...[...document.querySelectorAll('[title], [placeholder], [aria-label]')].flatMap(
            n => ['title', 'placeholder', 'aria-label'].map(a => n.getAttribute(a) || ''))].join('\\n')""")


async def test_an_english_family_reads_no_chinese_from_start_to_the_signed_consent(runtime, tmp_path: Path,
                                                                                   png: bytes):
    """An en-US browser starts in English; the whole conversation of the English corpus's first
    family, typed into the page, shows no Chinese character in the page's furniture or in any
    reply (the family typed their names in pinyin); the consent opens as a page to read."""
    import yaml
    from playwright.async_api import expect

    from bot.notifier import deliver_notifications

    corpus = Path(__file__).parents[2] / "flows" / "dialogues" / "sentences_en.yaml"
    turns = yaml.safe_load(corpus.read_text("utf-8"))[0]["turns"]
    photo = tmp_path / "id-card.png"
    photo.write_bytes(png)
    async with serving(tryout_app(runtime)) as (server, chromium):
        context = await chromium.new_context(viewport={"width": 390, "height": 844},
                                             device_scale_factor=2, locale="en-US")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(str(server.make_url("/try")))
        log = page.get_by_role("log", name="Conversation")
        await expect(log).to_contain_text("home nursing service")
        assert await page.evaluate("document.documentElement.lang") == "en"
        furniture = await _furniture(page)
        assert "Type a message" in furniture and "Restart" in furniture
        assert not CJK.findall(furniture), furniture

        text = page.get_by_label("Type a message")
        for message, expected in turns:
            if message.startswith("<"):  # <id-card>, <record>
                await page.locator("#file").set_input_files(str(photo))
            else:
                await text.fill(message)
                await page.get_by_role("button", name="Send", exact=True).click()
            await expect(log).to_contain_text(expected)
        await expect(log).to_contain_text(re.compile(r"Booking number: JH\d{12}"))

        assert await deliver_notifications(runtime) >= 1  # the sealed consent, polled for
        opener = page.get_by_role("link", name="Open and read")
        await expect(opener).to_be_visible(timeout=10_000)
        await expect(log).to_contain_text(re.compile(r"download the sealed PDF \(link valid for 7 days\): http://127\.0\.0\.1:\d+/d/"))
        conversation = await log.inner_text()
        assert not CJK.findall(conversation), CJK.findall(conversation)
        assert not CJK.findall(await _furniture(page))
        assert not await log.locator(".row.bot img").count()  # a page to read, not page images

        async with context.expect_page() as opened:
            await opener.click()
        consent = await opened.value
        await consent.wait_for_load_state()
        await expect(consent.get_by_role("heading", level=1).first).to_contain_text(
            "Home Nursing Service Agreement and Informed Consent")
        await expect(consent.locator("body")).to_contain_text("Channel: try-out page (web)")
        await expect(consent.get_by_role("link", name="Download the sealed PDF")).to_be_visible()
        width = await consent.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, width  # the text reflows to the phone's width
        shot = (SCREENSHOT_DIR or tmp_path) / "consent-phone.png"
        await consent.screenshot(path=str(shot))
        assert not errors, errors
    assert shot.stat().st_size > 10_000


async def test_the_page_switches_to_english_with_the_conversation(runtime):
    from playwright.async_api import expect

    async with serving(tryout_app(runtime)) as (server, chromium):
        page = await chromium.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
        await page.goto(str(server.make_url("/try")))
        await expect(page.get_by_role("log")).to_contain_text("您好")
        text = page.get_by_label("输入消息")
        await text.fill("English")
        await text.press("Enter")
        await expect(page.get_by_role("log")).to_contain_text("Switched to English")
        await expect(page.get_by_label("Type a message")).to_have_attribute(
            "placeholder", "Type a message, or reply with a number")
        assert not CJK.findall(await _furniture(page))
        await page.reload()  # the conversation's language, not the browser's, from now on
        await expect(page.get_by_role("button", name="Restart")).to_be_visible()


async def test_a_family_sends_the_browsers_location_for_the_address(runtime):
    """The location button sends the browser's position; the address step keeps it and asks
    only for the building and door (then the district); without permission the family is told
    to type the address."""
    from playwright.async_api import expect
    from sqlalchemy import select

    from backend.models import Patient

    async with serving(tryout_app(runtime)) as (server, chromium):
        refused = await chromium.new_page(locale="zh-CN")  # no permission to locate
        await refused.goto(str(server.make_url("/try")))
        await expect(refused.get_by_role("log")).to_contain_text("请问需要办理什么")
        await refused.get_by_role("button", name="发送我的位置").click()
        await expect(refused.get_by_role("log")).to_contain_text("请直接输入详细地址")

        context = await chromium.new_context(locale="zh-CN", permissions=["geolocation"],
                                             geolocation={"latitude": 39.99612, "longitude": 116.47453})
        page = await context.new_page()
        await page.goto(str(server.make_url("/try")))
        log, text = page.get_by_role("log"), page.get_by_label("输入消息")
        await page.get_by_role("button", name="预约上门护理").click()
        await page.get_by_role("button", name="1. 同意", exact=True).click()
        for message, expected in [("2", "什么人"), ("女儿", "您（申请人）的姓名"),
                                  ("张丽", "患者的姓名"), ("王秀英", "18位身份证号码"),
                                  ("11010519491231002X", "1949-12-31"), ("13800138000", "详细地址")]:
            await text.fill(message)
            await text.press("Enter")
            await expect(log).to_contain_text(expected)
        await page.get_by_role("button", name="发送我的位置").click()
        await expect(log.locator(".row.me").last).to_contain_text("我的位置")
        await expect(log).to_contain_text("楼号")
        for message, expected in [("3号楼2单元501", "哪个区"), ("朝阳区", "身份证的正面照片")]:
            await text.fill(message)
            await text.press("Enter")
            await expect(log).to_contain_text(expected)
    async with runtime.sessions() as session:
        patient = (await session.execute(select(Patient))).scalar_one()
    assert "3号楼2单元501" in patient.address and "39.996120,116.474530" in patient.address
