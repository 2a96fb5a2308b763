"""Notifications say enough: the visit's time as the chat writes it, who comes, what to prepare,
and how to reach the nurse through the hospital, in the family's language (issue #18)."""
from __future__ import annotations

import re
from datetime import date, time

from backend import bookings, care
from backend.db import transaction
from backend.models import Booking
from bot.notifier import deliver_notifications
from flows.messages import visit_time
from flows.notices import notice_values, staff_label
from tests.conftest import Dialogue

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
NURSE_PHONE = "13900000000"


def test_a_visit_time_reads_as_in_the_chat():
    assert visit_time("zh", date(2026, 12, 1), time(14), time(16)) == "12月1日 周二 14:00-16:00"
    assert visit_time("en", date(2026, 12, 1), time(14), time(16)) == "Tue Dec 1 14:00-16:00"


def test_titles_follow_the_glossary():
    assert staff_label("zh", "刘芳", "主管护师") == "刘芳（主管护师）"
    assert staff_label("en", "Liu Fang", "护师") == "Liu Fang (nurse)"  # never "nurse practitioner"
    assert staff_label("en", "Liu Fang", "主管护师") == "Liu Fang (nurse-in-charge)"


def test_a_notice_queued_before_these_words_still_reads():
    """Values stored by an older version (no services, no nurse's parts) still fill every message."""
    values = notice_values("en", {"number": "JH1", "date": "2026-12-01", "start": "14:00", "end": "16:00",
                                  "nurse": "刘芳（主管护师）", "note": ""})
    assert values["when"] == "Tue Dec 1 14:00-16:00" and values["prepare"] == ""
    assert values["hotline"] == "010-00000000"


async def _booked_and_assigned(dialogue: Dialogue, runtime, sent: list,  # type: ignore[no-untyped-def]
                               before: tuple[str, ...] | list[str] = ()) -> None:
    async def send(user_id, replies, progress=None):  # type: ignore[no-untyped-def]
        sent.extend(reply.text for reply in replies)

    await dialogue.intake()
    for message in before:
        await dialogue.say(message)
    await deliver_notifications(runtime)  # the sealed consent, out of the way
    runtime.senders["terminal"] = send
    number = re.search(r"JH\d{12}", "".join(dialogue.log)).group()  # type: ignore[union-attr]
    async with transaction(runtime.sessions) as session:
        nurse = await care.add_worker(session, name="刘芳", role="nurse", title="主管护师", years_of_practice=8,
                                      registration_no="RN-001", districts=["朝阳区"], phone=NURSE_PHONE,
                                      actor="manager")
        booking = await bookings.by_number(session, number)
        assert isinstance(booking, Booking)
        await bookings.change_status(session, booking, "confirmed", "manager")
        await bookings.assign(session, booking, nurse, "manager")
    assert await deliver_notifications(runtime) == 2


async def test_the_family_is_told_when_who_what_to_prepare_and_whom_to_call(dialogue, runtime, today):
    sent: list[str] = []
    await _booked_and_assigned(dialogue, runtime, sent)
    confirmed, assigned = sent
    visit = re.search(r"上门时间：(\d+)月(\d+)日 (周.) (\d\d:\d\d-\d\d:\d\d)", assigned)
    assert visit is not None, assigned  # 12月1日 周二 14:00-16:00, as the slots were offered
    assert "刘芳（主管护师）" in assigned and "热线 010-00000000" in assigned and "转接" in assigned
    # the happy path booked 伤口换药 and 压疮护理: what each needs, from service_texts.yaml
    assert "上门前请准备：" in assigned and "· 伤口换药：请准备干净的桌面" in assigned
    assert "翻身用的枕头" in assigned
    assert NURSE_PHONE not in confirmed + assigned  # the hospital puts the family through
    assert "上门时间：" + visit.group(0).removeprefix("上门时间：") in confirmed


async def test_the_words_follow_the_conversations_language_when_sent(dialogue, runtime):
    """Queued with raw values, worded at sending: a family who switched to English reads English."""
    sent: list[str] = []
    await _booked_and_assigned(dialogue, runtime, sent, before=["English"])
    confirmed, assigned = sent
    assert re.search(r"will visit on (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{1,2} \d\d:\d\d-\d\d:\d\d",
                     assigned), assigned
    assert "(nurse-in-charge)" in assigned and "hotline 010-00000000" in assigned
    assert "Before the visit, please prepare:" in assigned and "· Wound dressing change: Prepare a clean table" in assigned
    assert NURSE_PHONE not in confirmed + assigned
    # nothing Chinese but the nurse's name
    assert CJK.findall(confirmed + assigned.replace("刘芳", "")) == []
