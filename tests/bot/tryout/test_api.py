"""``/try``'s JSON API: a whole intake as a family member in a browser would do it."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from backend.models import ChannelUser, TranscriptEntry
from tests.bot.tryout.conftest import Browser, shown, tryout_app
from tests.conftest import HAPPY_PATH, png_bytes


async def test_a_whole_intake_over_the_json_api(runtime, browser: Browser):
    from bot.notifier import deliver_notifications

    greeting = shown(await browser.start())
    assert "您好" in greeting and "1. 预约上门护理" in greeting
    pressed = 0
    for name, message, expected in HAPPY_PATH[1:]:
        if message == "<id-card>":
            replies = await browser.upload(png_bytes(), "image/png", "id.png")
        elif message == "<record>":
            replies = await browser.upload(png_bytes((80, 60)), "image/png", "discharge.png")
        elif browser.button(message):
            replies = await browser.press(message)
            pressed += 1
        else:
            replies = await browser.type(message)
        assert expected in shown(replies), f"at {name}: after {message!r}:\n{shown(replies)}"
        if name == "consent":  # the sealed consent follows the turn, through the notifier
            assert await browser.updates() == []
            assert await deliver_notifications(runtime) >= 1
            document = next(r for r in await browser.updates() if r["kind"] == "document")
            # a page to read on the phone behind an absolute link in the message, the PDF inside
            assert document["pages"] == [] and document["readable"]
            assert document["url"].startswith(str(browser.client.make_url("/d/")))
            assert document["url"] in document["text"] and document["filename"].endswith(".pdf")
            page = await (await browser.client.get(document["url"][document["url"].index("/d/"):])).text()
            assert "签署渠道：体验页面（网页）" in page and "try-" not in page
            pdf_link = html.unescape(re.search(r'class="download"><a href="([^"]+)"', page).group(1))
            download = await browser.client.get(pdf_link)
            assert download.status == 200 and (await download.read()).startswith(b"%PDF")
            assert await browser.updates() == []  # delivered once
    assert pressed >= 2  # 预约上门护理, 同意 … went in as buttons, the rest as typed text


async def test_buttons_carry_ids_numbers_and_the_step_context(browser: Browser):
    await browser.start()
    menu = next(r for r in browser.last if r["kind"] == "choices")
    assert menu["choices"][0] == {"id": "book", "label": "预约上门护理", "number": 1}
    assert menu["context"] and not menu["multiple"]
    await browser.press("预约上门护理")
    assert "个人信息处理告知" in shown(browser.last)
    await browser.type("1")  # numbers are still typeable
    assert "家属代为申请" in shown(browser.last)


async def test_a_button_of_an_earlier_question_is_answered_politely(browser: Browser):
    await browser.start()
    await browser.press("预约上门护理")
    privacy = next(r for r in browser.last if r["kind"] == "choices")
    await browser.press("同意")
    replies = await browser.post("/try/api/message", {"message_id": browser.next_id(),
                                                      "choice": privacy["choices"][0]["id"],
                                                      "context": privacy["context"]})
    assert "按钮已经过期" in shown(replies) and "家属代为申请" in shown(replies)


async def test_a_double_submitted_message_is_handled_once(runtime, browser: Browser):
    await browser.start()
    first = await browser.type("预约", message_id="double-0001")
    second = await browser.type("预约", message_id="double-0001")
    assert "个人信息处理告知" in shown(first)
    assert second == []
    async with runtime.sessions() as session:
        inbound = await session.scalar(select(func.count()).select_from(TranscriptEntry).where(
            TranscriptEntry.channel == "tryout", TranscriptEntry.direction == "in"))
    assert inbound == 2  # the start event and one 预约


async def test_each_browser_is_a_tryout_user_kept_in_a_cookie(runtime, client, browser: Browser):
    response = await client.get("/try")
    cookie = response.headers["Set-Cookie"]
    assert "jiahu_try=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/try" in cookie
    await browser.start()
    await browser.type("你好")
    async with runtime.sessions() as session:
        users = (await session.scalars(select(ChannelUser).where(ChannelUser.channel == "tryout"))).all()
    assert len(users) == 1
    assert users[0].is_tryout and users[0].external_id.startswith("try-")
    assert users[0].external_id == "try-" + client.session.cookie_jar.filter_cookies(
        client.make_url("/try/api/start"))["jiahu_try"].value


async def test_reset_begins_as_a_new_user(runtime, client, browser: Browser):
    await browser.start()
    await browser.press("预约上门护理")
    assert (await client.post("/try/api/reset")).status == 200
    greeting = shown(await browser.start())
    assert "个人信息处理告知" not in greeting and "1. 预约上门护理" in greeting
    async with runtime.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ChannelUser).where(
            ChannelUser.channel == "tryout", ChannelUser.is_tryout.is_(True)))
    assert count == 2


@pytest.mark.parametrize("size", [130_000, 400_000], ids=["streamed", "declared"])
async def test_an_oversize_upload_gets_a_polite_413(runtime, size: int):
    from aiohttp.test_utils import TestClient, TestServer

    runtime.settings.max_upload_bytes = 100 * 1024
    async with TestClient(TestServer(tryout_app(runtime))) as client:
        browser = Browser(client)
        await browser.start()
        response = await client.post("/try/api/upload",
                                     data=browser.form(b"\x89PNG" + b"0" * size, "image/png", "big.png"))
        assert response.status == 413
        assert "文件太大" in (await response.json())["error"]
        assert "100 KB" in (await response.json())["error"]


async def test_a_pdf_upload_reaches_the_flow(browser: Browser):
    await browser.start()
    for message in ("预约上门护理", "同意"):
        await browser.press(message)
    replies = await browser.upload(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n",
                                   "application/pdf", "出院小结.pdf")
    assert "家属代为申请" in shown(replies)  # not the upload step yet: the flow says so, politely


@pytest.mark.parametrize("payload", [
    {"text": "你好"},  # no message id
    {"message_id": "x", "text": "你好"},  # too short to be a browser's id
    {"message_id": "msg-000123", "text": ""},
    {"message_id": "msg-000123", "text": "长" * 2001},
    {"message_id": "msg-000123", "choice": "book", "context": "<script>"},
    ["not", "an", "object"],
])
async def test_a_malformed_message_gets_a_polite_400(client, payload):
    response = await client.post("/try/api/message", json=payload)
    assert response.status == 400
    assert "没有发送成功" in (await response.json())["error"]


async def test_another_site_cannot_post(client):
    response = await client.post("/try/api/message", json={"message_id": "msg-000001", "text": "你好"},
                                 headers={"Origin": "https://evil.example"})
    assert response.status == 403 and "error" in await response.json()


async def test_the_page_names_the_hospital_and_serves_its_script_and_style(client):
    from backend.config import hospital_config

    response = await client.get("/try")
    page = await response.text()
    assert response.status == 200 and hospital_config().hospital.name_zh in page
    assert '<label for="text"' in page and "script-src 'self'" in response.headers["Content-Security-Policy"]
    script = await client.get("/try/chat.js")
    assert script.status == 200 and "javascript" in script.headers["Content-Type"]
    style = await client.get("/try/chat.css")
    assert style.status == 200 and "text/css" in style.headers["Content-Type"]


async def test_replies_pushed_between_turns_wait_for_the_page(runtime, client, browser: Browser):
    from flows.types import Outbound

    await browser.start()
    user_id = "try-" + client.session.cookie_jar.filter_cookies(
        client.make_url("/try/api/start"))["jiahu_try"].value
    await runtime.senders["tryout"](user_id, [Outbound.say("您好，我是热线的李护士。")])
    await runtime.senders["tryout"]("try-someone-else-0000", [Outbound.say("不是给您的")])
    assert shown(await browser.updates()) == "您好，我是热线的李护士。"
    assert await browser.updates() == []


async def test_the_mailbox_is_bounded():
    from bot.tryout import Mailbox
    from flows.types import Outbound

    mailbox = Mailbox(max_users=2, max_replies=3)
    for user in ("a", "b", "c"):
        await mailbox.deliver(user, [Outbound.say(str(n)) for n in range(5)])
    assert mailbox.take("a") == []
    assert [r.text for r in mailbox.take("c")] == ["2", "3", "4"]


async def test_one_address_begins_only_a_few_new_users_a_minute(client, clock):
    from datetime import timedelta

    from bot.tryout.views import NEW_USERS_PER_MINUTE

    statuses = []
    for n in range(NEW_USERS_PER_MINUTE + 5):
        client.session.cookie_jar.clear()
        response = await client.post("/try/api/start", json={"message_id": f"start-{n:04d}"})
        statuses.append(response.status)
    assert statuses == [200] * NEW_USERS_PER_MINUTE + [429] * 5
    assert "一分钟后再试" in (await response.json())["error"]
    clock.advance(timedelta(seconds=61))
    client.session.cookie_jar.clear()
    assert (await client.post("/try/api/start", json={"message_id": "start-late"})).status == 200
    # a browser that already has its user is never limited
    for n in range(NEW_USERS_PER_MINUTE + 5):
        assert (await client.post("/try/api/start", json={"message_id": f"again-{n:04d}"})).status == 200


async def test_done_stays_a_button_after_each_record_and_questions_say_where_we_are(browser: Browser):
    await browser.start()
    for _, message, _ in HAPPY_PATH[1:HAPPY_PATH.index(next(r for r in HAPPY_PATH if r[0] == "upload_records"))]:
        if message == "<id-card>":
            await browser.upload(png_bytes(), "image/png", "id.png")
        else:
            await browser.type(message)
    received = await browser.upload(png_bytes((80, 60)), "image/png", "discharge.png")
    assert received[-1]["kind"] == "choices" and received[-1]["text"].startswith("已收到第1份资料")
    assert browser.button("完成")
    first = await browser.press("完成")
    assert first[-1]["text"].startswith("第1/16题\n进食")
    second = await browser.press(first[-1]["choices"][0]["label"])
    assert second[-1]["text"].startswith("第2/16题\n")


@pytest.mark.parametrize(("header", "languages", "lang"), [
    ("en-US,en;q=0.9", None, "en"), ("zh-CN,zh;q=0.9,en;q=0.8", None, "zh"),
    ("de-DE,de;q=0.9,en;q=0.5,zh;q=0.4", None, "en"), ("fr", None, "zh"), ("", None, "zh"),
    ("zh-CN", ["en-GB", "zh-CN"], "en"), ("en;q=0.1,zh;q=0.9", None, "zh"), ("en;q=x", None, "zh")])
async def test_a_new_conversation_starts_in_the_browsers_language(client, header, languages, lang):
    headers = {"Accept-Language": header}
    page = await (await client.get("/try", headers=headers)).text()
    if languages is None:  # the page's script sends navigator.languages, which a browser keeps
        assert f'data-lang="{lang}"' in page  # in step with its Accept-Language
    body = {"message_id": "msg-000001", **({"languages": languages} if languages else {})}
    started = await (await client.post("/try/api/start", json=body, headers=headers)).json()
    assert started["lang"] == lang
    assert ("Hello, this is" if lang == "en" else "您好") in started["replies"][0]["text"]


async def test_the_api_explains_errors_in_the_language_the_page_shows(client):
    response = await client.post("/try/api/message", data=b"{", headers={"X-Try-Language": "en"})
    assert response.status == 400 and (await response.json())["error"].startswith("Sorry, this message")
    response = await client.post("/try/api/message", data=b"{", headers={"Accept-Language": "zh-CN"})
    assert response.status == 400 and (await response.json())["error"].startswith("抱歉")


@pytest.mark.parametrize("place", [{"latitude": "39.9", "longitude": 116.4}, {"latitude": 91, "longitude": 0},
                                   {"latitude": 39.9}, [39.9, 116.4], {"latitude": True, "longitude": 1}])
async def test_a_location_that_is_not_a_position_is_refused(browser: Browser, place):
    await browser.start()
    response = await browser.client.post("/try/api/message", json={"message_id": browser.next_id(),
                                                                   "location": place})
    assert response.status == 400 and "error" in await response.json()
