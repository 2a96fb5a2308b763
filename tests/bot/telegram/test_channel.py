"""What Telegram does to a conversation: redelivered updates, old and forged buttons, commands,
languages, flood control, blocked users and the consent PDF."""
from __future__ import annotations

import asyncio
import inspect

from sqlalchemy import select

from backend.models import ChannelUser
from flows.types import Outbound


async def _deliver_twice_at_once(family, update):
    delivered = [family.deliver(update), family.deliver(update)]
    await asyncio.gather(*(d for d in delivered if inspect.isawaitable(d)))


async def test_an_update_delivered_twice_is_answered_once(family, telegram_api):
    update = family.message(text="/start")
    mark = len(telegram_api.sent(family.chat_id))
    await _deliver_twice_at_once(family, update)
    await telegram_api.wait_for(lambda: "请问需要办理什么" in family.replies_since(mark))
    await asyncio.sleep(0.3)
    assert family.replies_since(mark).count("请问需要办理什么") == 1


async def test_a_button_of_an_earlier_question_gets_a_polite_answer(family, telegram_api):
    await family.say("/start", expect="请问需要办理什么")
    await family.press("预约上门护理", expect="是否同意")
    privacy_question = family.keyboard_message()
    await family.press("同意", expect="家属代为申请")
    answer = await family.do(family.callback(privacy_question, family.button("不同意", privacy_question)),
                             expect="这个按钮已经过期了")
    assert "家属代为申请" in answer  # and the question we are at now
    assert telegram_api.called("answerCallbackQuery")[-1].params["callback_query_id"] == family.callback_ids[-1]


async def test_forged_callback_data_is_answered_and_the_question_shown_again(family, telegram_api):
    await family.say("/start", expect="请问需要办理什么")
    await family.press("预约上门护理", expect="是否同意")
    question = family.keyboard_message()
    for forged in ("c:zzzzzzzz:agree", "drop table", "c:00000000:agree:extra", "t:12345678:x"):
        answer = await family.do(family.callback(question, forged), expect="这个按钮已经过期了")
        assert "是否同意" in answer
    answered = [c.params["callback_query_id"] for c in telegram_api.called("answerCallbackQuery")]
    assert answered == family.callback_ids


async def test_commands_become_what_the_engine_understands(family):
    await family.say("/start", expect="请问需要办理什么")
    await family.say("/status", expect="您目前没有预约记录")
    assert "热线" in await family.say("/human", expect="客服")
    await family.say("/start", expect="请问需要办理什么")
    await family.press("预约上门护理", expect="是否同意")
    assert "我正在问您" in await family.say("/help", expect="是否同意")
    assert "请问需要办理什么" in await family.say("/cancel", expect="请问需要办理什么")


async def test_language_follows_the_client_and_lang_switches_it(family, telegram_api):
    family.language_code = "en-GB"
    assert "home nursing service" in await family.say("/start", expect="What would you like to do?")
    answer = await family.say("/lang", expect="Choose your language")
    assert "中文" in answer and "English" in answer
    assert "已切换为中文" in await family.press("中文", expect="请问需要办理什么")
    assert "Switched to English" in await family.say("/lang en", expect="What would you like to do?")


async def test_flood_control_is_waited_out_and_the_message_still_arrives(family, telegram_api):
    telegram_api.fail("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await family.say("/start", expect="请问需要办理什么")
    methods = [c.method for c in telegram_api.calls if c.method.startswith("sendMessage")]
    assert methods[:2] == ["sendMessage!429", "sendMessage"]


async def test_a_user_who_blocked_the_bot_does_not_stop_the_worker(family, telegram_api, runtime):
    telegram_api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await family.do(family.message(text="/start"))
    await asyncio.sleep(0.3)
    assert telegram_api.called("sendMessage!403")
    assert not telegram_api.sent(family.chat_id)  # the rest of that turn is not attempted
    await family.do({"update_id": 90001, "my_chat_member": {
        "chat": {"id": family.chat_id, "type": "private", "first_name": "丽"}, "from": family.user,
        "date": 1, "old_chat_member": {"status": "member", "user": {"id": 123456, "is_bot": True,
                                                                    "first_name": "Jiahu"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": 123456, "is_bot": True, "first_name": "Jiahu"}}}})
    await asyncio.sleep(0.3)
    async with runtime.sessions() as session:
        user = (await session.execute(select(ChannelUser))).scalar_one()
    assert user.subscribed is False
    await family.say("/start", expect="请问需要办理什么")  # unblocked: served again


async def test_the_consent_pdf_is_sent_as_a_document(polling, telegram_api):
    pdf = b"%PDF-1.7\n% consent\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
    await polling.deliver("777001", [
        Outbound(kind="document", text="这是您的知情同意书，请保存。", data=pdf,
                 filename="知情同意书-JH202611250001.pdf", content_type="application/pdf"),
        Outbound.say("签名已完成。")])
    document, after = telegram_api.sent(777001)
    assert document.method == "sendDocument"
    assert document.files["document"] == ("知情同意书-JH202611250001.pdf", pdf)
    assert document.params["caption"] == "这是您的知情同意书，请保存。"
    assert after.params["text"] == "签名已完成。"


async def test_long_texts_are_split_and_links_sent_for_documents_without_data(polling, telegram_api):
    await polling.deliver("777001", [Outbound.say("第一行\n" + "很长" * 3000),
                                     Outbound(kind="document", text="同意书下载：",
                                              url="https://example.org/d/1/a.pdf?sig=x")])
    texts = [c.params["text"] for c in telegram_api.sent(777001)]
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)
    assert texts[-1] == "同意书下载：\nhttps://example.org/d/1/a.pdf?sig=x"
