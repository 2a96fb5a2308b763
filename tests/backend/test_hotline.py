"""The hotline's hours and first-response timer (hospital.yaml ``hotline``), and what a family
asking for a person hears on duty and after hours."""
from __future__ import annotations

from datetime import datetime, timedelta

from backend import hotline
from tests.conftest import BEIJING


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BEIJING)


def test_staff_are_on_duty_from_eight_to_eight():
    assert hotline.on_duty(at(25, 8)) and hotline.on_duty(at(25, 19, 59))
    assert not hotline.on_duty(at(25, 20)) and not hotline.on_duty(at(26, 7, 59))
    assert hotline.hours_text() == "8:00-20:00"


def test_waiting_counts_business_time_only():
    assert hotline.business_seconds(at(25, 10), at(25, 10, 30)) == 30 * 60
    # asked at 19:50, answered next morning at 8:10: twenty minutes of business time
    assert hotline.business_seconds(at(25, 19, 50), at(26, 8, 10)) == 20 * 60
    assert hotline.business_seconds(at(25, 21), at(25, 23)) == 0


def test_the_first_response_timer_turns_amber_then_red():
    asked = at(25, 10)
    assert hotline.first_response_level(asked, asked + timedelta(minutes=4)) == "ok"
    assert hotline.first_response_level(asked, asked + timedelta(minutes=5)) == "amber"
    assert hotline.first_response_level(asked, asked + timedelta(minutes=15)) == "red"
    assert hotline.first_response_level(at(25, 19, 58), at(26, 7, 30)) == "ok"  # the night does not count


async def test_a_family_asking_for_a_person_hears_when_staff_answer(dialogue, clock):
    assert "工作时间（8:00-20:00）内会尽快在这里回复您" in await dialogue.say("转人工")
    clock.set(at(25, 22, 30))
    late = await dialogue.say("转人工")
    assert "现在是非工作时间，人工客服不在线（工作时间 8:00-20:00）" in late and "120" in late
