"""The edges of the Telegram channel (issue #16): a location with coordinates only, a shared
contact without the country code, digits before any menu, a malformed update while polling."""
from __future__ import annotations

import asyncio
import itertools

import pytest
from aiogram.types import Message
from sqlalchemy import select
from structlog.testing import capture_logs

from backend.models import Patient
from bot.telegram.channel import _phone
from flows.types import Location

from .conftest import FamilyMember  # noqa: TID252
from .samples import CONTACT, LOCATION_MESSAGE, UPDATE, as_family  # noqa: TID252

_ids = itertools.count(90000)


def _update(family, message):  # type: ignore[no-untyped-def]
    message = as_family(message, family.chat_id)
    message["message_id"] = next(_ids)
    return {"update_id": next(_ids), "message": message}


async def test_a_location_with_coordinates_only_is_read_with_them(polling, telegram_api, runtime):
    """pyTelegramBotAPI's location sample reaches the flow as a location with its coordinates."""
    family = FamilyMember(telegram_api, telegram_api.push, runtime=runtime)
    update = _update(family, LOCATION_MESSAGE)
    inbound = await polling.inbound(Message.model_validate(update["message"]), "u1")
    assert inbound.kind == "location" and inbound.location == Location(26.090577, 127.479471)


async def test_a_location_is_kept_and_only_the_building_and_door_asked(dialogue, runtime):
    await dialogue.intake(until="address")
    answer = await dialogue.say(kind="location", location=Location(39.99612, 116.47453))
    assert "楼号" in answer and "门牌号" in answer and "太简单" not in answer
    assert "哪个区" in await dialogue.say("3号楼2单元501")
    assert "身份证的正面照片" in await dialogue.say("朝阳区")
    async with runtime.sessions() as session:
        patient = (await session.execute(select(Patient))).scalar_one()
    assert "3号楼2单元501" in patient.address and "39.996120,116.474530" in patient.address


@pytest.mark.parametrize(("shared", "read"), [("13800138000", "13800138000"),
                                              ("+8613800138000", "+8613800138000"),
                                              ("8613800138000", "+8613800138000"),
                                              ("+44 20 7946 0958", "+442079460958")])
def test_shared_numbers_are_read_as_the_flow_reads_them(shared, read):
    assert _phone(shared) == read


async def test_a_shared_contact_without_country_code_is_a_chinese_mobile(family, telegram_api):
    await family.say("/start", expect="请问需要办理什么")
    for name, text in (("预约上门护理", "是否同意"), ("同意", "家属代为申请")):
        await family.press(name, expect=text)
    for text, expect in (("2", "什么人"), ("女儿", "姓名"), ("张丽", "患者的姓名"),
                         ("王秀英", "18位身份证号码")):
        await family.say(text, expect=expect)
    answer = await family.say("11010519491231002X", expect="电话")
    asked = telegram_api.sent(family.chat_id)[-1].params["reply_markup"]  # the main phone step
    assert asked["keyboard"][0][0]["request_contact"] is True, answer
    contact = dict(CONTACT, phone_number="13800138000", user_id=family.chat_id)
    assert "详细地址" in await family.do(family.message(contact=contact), expect="详细地址")


async def test_a_digit_before_any_menu_picks_nothing(family, telegram_api):
    answer = await family.say("4", expect="请问需要办理什么")
    assert "投诉" not in answer.split("请问需要办理什么")[0]
    answer = await family.say("4", expect="")  # now the menu was shown: 4 is its fourth option
    assert "请问需要办理什么" not in answer


async def test_a_malformed_update_is_skipped_with_a_log_line(polling, telegram_api, runtime):
    family = FamilyMember(telegram_api, telegram_api.push, runtime=runtime)
    broken = dict(UPDATE, update_id=next(_ids), message={"message_id": "x", "chat": "not a chat"})
    with capture_logs() as logs:
        telegram_api.push(broken)
        answer = await family.say("/start", expect="请问需要办理什么")  # the queue moves on
        await telegram_api.wait_for(lambda: broken not in telegram_api.pending)  # confirmed
    assert "请问需要办理什么" in answer
    skipped = [entry for entry in logs if entry["event"] == "telegram.update_skipped"]
    assert skipped and skipped[0]["update_id"] == broken["update_id"]


async def test_a_slow_turn_shows_typing(family, telegram_api, runtime, monkeypatch):  # type: ignore[no-untyped-def]
    from bot.telegram import channel as channel_module

    await family.say("/start", expect="请问需要办理什么")
    assert telegram_api.called("sendChatAction") == []  # a quick turn
    monkeypatch.setattr(channel_module, "TYPING_AFTER", 0.1)
    handle = runtime.engine.handle

    async def slow(inbound):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)
        return await handle(inbound)

    runtime.engine.handle = slow
    await family.press("预约上门护理", expect="是否同意")
    [typing] = telegram_api.called("sendChatAction")
    assert typing.params["action"] == "typing" and int(typing.params["chat_id"]) == family.chat_id
