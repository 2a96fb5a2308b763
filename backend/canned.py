"""Canned replies (常用回复, ``canned_replies.yaml``) filled in for one conversation."""
from __future__ import annotations

from dataclasses import dataclass

from backend.config import canned_replies
from backend.models import Slot

# What a variable reads as when the conversation does not know it yet.
_UNKNOWN = {"zh": {"patient_name": "患者", "booking_time": "（上门时间待定）"},
            "en": {"patient_name": "the patient", "booking_time": "(visit time to be arranged)"}}
_WEEKDAYS = {"zh": "一二三四五六日", "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}


@dataclass(frozen=True)
class Filled:
    title: str
    text: str


def booking_time(slot: Slot, lang: str) -> str:
    """A visit window as the family reads it: 11月26日（周四）09:00–11:00."""
    window = f"{slot.start.strftime('%H:%M')}–{slot.end.strftime('%H:%M')}"
    if lang == "en":
        return f"{_WEEKDAYS['en'][slot.day.weekday()]} {slot.day.day} {slot.day.strftime('%b')}, {window}"
    return f"{slot.day.month}月{slot.day.day}日（周{_WEEKDAYS['zh'][slot.day.weekday()]}）{window}"


def filled(lang: str, *, staff_name: str, hotline: str, patient_name: str | None = None,
           slot: Slot | None = None) -> list[Filled]:
    """Every canned reply in the family's language with this conversation's values."""
    lang = "en" if lang == "en" else "zh"
    values = {"staff_name": staff_name, "hotline": hotline,
              "patient_name": patient_name or _UNKNOWN[lang]["patient_name"],
              "booking_time": booking_time(slot, lang) if slot else _UNKNOWN[lang]["booking_time"]}
    return [Filled(reply.title, reply.text(lang).format_map(values)) for reply in canned_replies().replies]
