"""Which days the hospital visits on: the schedule's weekdays, minus China's public holidays,
plus the adjusted working days (调休), minus the hospital's own closed days.

The holiday data comes from the ``chinesecalendar`` package (``chinese_calendar``), which the
State Council's yearly notice updates. For a year the installed package does not know yet, the
schedule's weekdays alone decide (logged once per year); ``schedule.closed_days`` in
``hospital.yaml`` can close the holidays of such a year until the package is upgraded.
"""
from __future__ import annotations

from datetime import date
from functools import cache

import chinese_calendar
import structlog

from backend.config import Schedule

log = structlog.get_logger(__name__)


@cache
def _year_unknown(year: int) -> bool:
    """True (and logged once) when the installed chinesecalendar has no data for the year."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        log.warning("workdays.no_holiday_data", year=year,
                    hint="upgrade chinesecalendar or list the year's holidays in schedule.closed_days")
        return True
    return False


def public_holiday(day: date) -> str | None:
    """The name of the public holiday ``day`` falls in (weekends inside it included), or None."""
    if _year_unknown(day.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return name if on_holiday and name else None


def adjusted_working_day(day: date) -> str | None:
    """The holiday a weekend working day (调休) makes up for, or None."""
    if _year_unknown(day.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return name if not on_holiday and name else None


def is_visit_day(day: date, schedule: Schedule) -> bool:
    """Whether visit slots are offered on ``day``."""
    if day in schedule.closed_days or public_holiday(day):
        return False
    return bool(adjusted_working_day(day)) or day.weekday() in schedule.weekdays
