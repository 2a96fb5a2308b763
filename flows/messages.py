"""Message catalogues: every user-facing sentence, in simplified Chinese and English."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from functools import lru_cache
from pathlib import Path

import yaml

from backend.config import data_file

LANGUAGES = ("zh", "en")
_PACKAGED = Path(__file__).with_name("messages")


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    """The messages of one language; a hospital's ``messages.<lang>.yaml`` overrides keys."""
    messages: dict[str, str] = yaml.safe_load((_PACKAGED / f"{lang}.yaml").read_text("utf-8"))
    override = data_file(f"messages.{lang}.yaml")
    if override.exists():
        messages.update(yaml.safe_load(override.read_text("utf-8")) or {})
    return messages


def t(lang: str, key: str, **values: object) -> str:
    """The message ``key`` in ``lang`` with its placeholders filled."""
    lang = lang if lang in LANGUAGES else "zh"
    text = catalogue(lang)[key]
    return text.format(**values) if values else text


def visit_time(lang: str, day: date, start: time, end: time) -> str:
    """A visit's day and window as the chat writes it, everywhere a family reads one (slots,
    confirmations, notifications, reminders): 12月1日 周二 14:00-16:00 / Tue Dec 1 14:00-16:00."""
    day_text = f"{day.month}月{day.day}日" if lang == "zh" else f"{day:%b} {day.day}"
    return t(lang, "slot.label", date=day_text, weekday=t(lang, f"weekday.{day.weekday()}"),
             start=f"{start:%H:%M}", end=f"{end:%H:%M}")


def join(lang: str, items: Iterable[str]) -> str:
    """Items of a list as the language writes them: 换药、采血 / dressing change, blood sampling."""
    return t(lang, "list.items").join(items)
