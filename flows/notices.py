"""What a notification to a family says besides its own sentence: the visit's time as the chat
writes it, who comes (name and title in the family's language), what to prepare for the booked
services and how to reach the nurse through the hospital (the hotline, never the nurse's own
number). Values are stored raw when the notification is queued and worded when it is sent, in
the conversation's language; reminders and any later notice use the same helpers."""
from __future__ import annotations

from datetime import date, time
from typing import Any

from backend.care import title_label
from backend.config import catalogue, hospital_config
from documents.consent import service_line
from flows.messages import t, visit_time


def notice_values(lang: str, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` with the worded ones every ``notify.*`` message may use: ``when``, ``nurse``,
    ``prepare`` (empty, or a block starting on a new line) and ``hotline``."""
    worded = dict(values)
    worded["hotline"] = hospital_config().hospital.hotline
    worded["when"] = _when(lang, values)
    if values.get("nurse_name"):
        worded["nurse"] = staff_label(lang, str(values["nurse_name"]), str(values.get("nurse_title") or ""))
    worded.setdefault("nurse", "")
    worded["prepare"] = preparation(lang, list(values.get("services") or []))
    return worded


def staff_label(lang: str, name: str, title: str) -> str:
    """刘芳（主管护师） / 刘芳 (nurse-in-charge): a title from the reviewed glossary."""
    if not title:
        return name
    return t(lang, "person.with_title", name=name, title=title_label(title, lang))


def preparation(lang: str, codes: list[str]) -> str:
    """What the family prepares for the booked services (documents/data/service_texts.yaml),
    as a block that starts on a new line; empty when no service is known."""
    items = catalogue()
    lines = []
    for code in codes:
        item = items.get(code)
        if item is not None:
            line = service_line(code, item.name(lang), item.price, lang)
            lines.append(t(lang, "notify.prepare.line", service=line.name, text=line.preparation))
    return "\n" + "\n".join([t(lang, "notify.prepare"), *lines]) if lines else ""


def _when(lang: str, values: dict[str, Any]) -> str:
    try:
        return visit_time(lang, date.fromisoformat(values["date"]), time.fromisoformat(values["start"]),
                          time.fromisoformat(values["end"]))
    except (KeyError, TypeError, ValueError):  # a notice without a visit time
        return " ".join(str(values[k]) for k in ("date", "start") if k in values)
