"""Visit days: no slots on China's public holidays or the hospital's closed days, slots on the
adjusted working days (调休). Dates come from chinesecalendar's data for the pinned year."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import yaml
from sqlalchemy import select

from backend import bookings, workdays
from backend.clock import PinnedClock
from backend.config import PACKAGED, hospital_config, reload
from backend.db import transaction
from backend.models import Slot

BEIJING = ZoneInfo("Asia/Shanghai")
DISTRICT = "朝阳区"


def _days_of(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=i) for i in range((date(year + 1, 1, 1) - first).days)]


def _national_day(year: int) -> list[date]:
    """The days of the National Day holiday of ``year``, from chinesecalendar's data."""
    name = chinese_calendar.Holiday.national_day.value
    return [d for d in _days_of(year) if chinese_calendar.get_holiday_detail(d) == (True, name)]


def _adjusted_off_day(year: int, weekdays: list[int]) -> date:
    """An adjusted working day (调休) of ``year`` on a weekday the schedule does not visit on."""
    def made_up(day: date) -> bool:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        return not on_holiday and name is not None

    return next(d for d in _days_of(year) if d.weekday() not in weekdays and made_up(d))


async def _slot_days(runtime) -> set[date]:
    async with transaction(runtime.sessions) as session:
        await bookings.ensure_slots(session, hospital_config(), DISTRICT)
        return set((await session.execute(select(Slot.day).where(Slot.district == DISTRICT))).scalars())


def _pin_before(clock: PinnedClock, day: date, days: int = 3) -> None:
    clock.set(datetime.combine(day - timedelta(days=days), time(10, 0), tzinfo=BEIJING))


async def test_no_slots_on_the_national_day_holiday(runtime, clock: PinnedClock, today: date) -> None:
    holiday = _national_day(today.year)
    assert holiday, "chinesecalendar knows the pinned year"
    _pin_before(clock, holiday[0])
    days = await _slot_days(runtime)
    assert days, "the days before the holiday and after it are offered"
    assert not days & set(holiday)
    after = holiday[-1] + timedelta(days=1)
    assert min(d for d in days if d > holiday[-1]) <= after + timedelta(days=1)


async def test_slots_on_an_adjusted_working_day(runtime, clock: PinnedClock, today: date) -> None:
    plan = hospital_config().schedule
    makeup = _adjusted_off_day(today.year, plan.weekdays)
    assert makeup.weekday() not in plan.weekdays, "an ordinary week would have no visits that day"
    _pin_before(clock, makeup)
    assert makeup in await _slot_days(runtime)


async def test_the_hospitals_closed_days_have_no_slots(runtime, today: date, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    plan = hospital_config().schedule
    closed = next(d for d in (today + timedelta(days=i) for i in range(2, plan.days_ahead))
                  if workdays.is_visit_day(d, plan))
    data = yaml.safe_load((PACKAGED / "hospital.yaml").read_text("utf-8"))
    data["schedule"]["closed_days"] = [closed]
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "hospital.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    monkeypatch.setenv("JIAHU_CONFIG_DIR", str(tmp_path / "config"))
    reload()
    from backend.settings import get_settings
    get_settings.cache_clear()
    assert hospital_config().schedule.closed_days == [closed]
    days = await _slot_days(runtime)
    assert closed not in days
    assert closed - timedelta(days=1) in days or closed + timedelta(days=1) in days


def test_a_year_the_package_does_not_know_falls_back_to_the_weekdays(today: date) -> None:
    plan = hospital_config().schedule
    unknown = max(d.year for d in chinese_calendar.holidays) + 1
    week = [date(unknown, 3, 1) + timedelta(days=i) for i in range(7)]
    assert [d for d in week if workdays.is_visit_day(d, plan)] == [
        d for d in week if d.weekday() in plan.weekdays]
