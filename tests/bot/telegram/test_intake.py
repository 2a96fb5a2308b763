"""A whole intake on Telegram, by long polling and by webhook: buttons, typed answers, a photo,
a file, a shared contact and multi-select, ending with a booking number."""
from __future__ import annotations

import re

from sqlalchemy import select

from backend.models import Booking, ChannelUser, TranscriptEntry, Upload
from bot.notifier import deliver_notifications
from tests.conftest import HAPPY_PATH, png_bytes

PRESSED = {"start", "privacy", "applicant", "records_done", "q_feeding", "q_bathing", "q_grooming",
           "q_bowels", "q_bladder", "q_stable", "q_bleeding", "present_same", "slot", "confirm"}
LABELS = {"records_done": "完成", "confirm": "确认预约"}


async def test_whole_intake_with_buttons_photo_file_and_contact(family, telegram_api, runtime):
    answer = await family.say("/start", expect="预约上门护理")
    assert "欢迎" in answer or "您好" in answer
    for name, message, expected in HAPPY_PATH[1:]:
        if name in PRESSED:
            choice = LABELS.get(name, message)
            answer = await family.press(int(choice) if choice.isdigit() else choice, expect=expected)
        elif message == "<id-card>":
            answer = await family.do(family.photo(png_bytes()), expect=expected)
        elif message == "<record>":
            record = png_bytes((80, 60))
            answer = await family.do(family.document(record, "出院小结.png", "image/png"), expect=expected)
        elif name == "services":
            for number in message.split(","):
                await family.press(int(number))
            assert family.keyboard_message()["reply_markup"]["inline_keyboard"][1][0]["text"].startswith("✅")
            answer = await family.press("完成选择", expect=expected)
        elif name == "present_phone":
            asked = telegram_api.sent(family.chat_id)[-1].params
            assert asked["reply_markup"]["keyboard"][0][0]["request_contact"] is True
            mark = len(telegram_api.sent(family.chat_id))
            answer = await family.do(family.contact("86" + message), expect=expected)
            markups = [c.params.get("reply_markup") for c in telegram_api.sent(family.chat_id)[mark:]]
            assert {"remove_keyboard": True} in markups
        else:
            answer = await family.say(message, expect=expected)
    number = re.search(r"JH\d{12}", answer).group()
    answered = [c.params["callback_query_id"] for c in telegram_api.called("answerCallbackQuery")]
    assert answered == family.callback_ids  # every press answered, so no client spinner hangs

    async with runtime.sessions() as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        uploads = (await session.execute(select(Upload).order_by(Upload.id))).scalars().all()
        user = (await session.execute(select(ChannelUser))).scalar_one()
        kinds = (await session.execute(select(TranscriptEntry.kind))).scalars().all()
    assert booking.number == number
    assert booking.service_codes == ["wound_care", "pressure_ulcer_care"]
    assert booking.present_phone == "13800138001"
    assert [u.kind for u in uploads] == ["id_card", "medical_record"]
    assert user.channel == "telegram" and user.external_id == str(family.chat_id)
    assert {"event", "choice", "image", "file", "contact", "text"} <= set(kinds)

    # the sealed consent, made off the chat turn, arrives as a PDF document
    assert await deliver_notifications(runtime) == 1
    [document] = telegram_api.called("sendDocument")
    assert int(document.params["chat_id"]) == family.chat_id
    [(filename, data)] = document.files.values()
    assert filename.endswith(".pdf") and data.startswith(b"%PDF")
