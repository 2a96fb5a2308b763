"""The hotline's hours and its first-response timer (hospital.yaml ``hotline``): whether staff
are on duty, and how long a family has waited for a person in business time."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from backend import clock
from backend.config import BusinessHours, hospital_config

Level = Literal["ok", "amber", "red"]


def _hours() -> BusinessHours:
    return hospital_config().hotline.business_hours


def on_duty(moment: datetime | None = None) -> bool:
    """Whether the hotline answers in the chat at this moment (default: now)."""
    hours = _hours()
    local = (moment or clock.now()).astimezone(clock.zone())
    return local.weekday() in hours.weekdays and hours.start <= local.time() < hours.end


def business_seconds(since: datetime, until: datetime) -> float:
    """Seconds of business hours between two moments (a night or a closed day does not count)."""
    hours = _hours()
    zone = clock.zone()
    start, end = since.astimezone(zone), until.astimezone(zone)
    total = 0.0
    day = start.date()
    while day <= end.date():
        if day.weekday() in hours.weekdays:
            opens = datetime.combine(day, hours.start, zone)
            closes = datetime.combine(day, hours.end, zone)
            overlap = min(closes, end) - max(opens, start)
            total += max(overlap, timedelta(0)).total_seconds()
        day += timedelta(days=1)
    return total


def first_response_level(waiting_since: datetime, now: datetime | None = None) -> Level:
    """ok, amber or red for a family waiting for a person since ``waiting_since``."""
    rules = hospital_config().hotline.first_response
    minutes = business_seconds(waiting_since, now or clock.now()) / 60
    if minutes >= rules.red_minutes:
        return "red"
    return "amber" if minutes >= rules.amber_minutes else "ok"


def hours_text() -> str:
    """The hotline's hours as families read them in a message: 8:00-20:00."""
    hours = _hours()
    return f"{hours.start.hour}:{hours.start.minute:02d}-{hours.end.hour}:{hours.end.minute:02d}"
