"""Choices as Telegram keyboards, and the small, validated callback data of their buttons.

Callback data is at most 64 bytes and comes back from the client untrusted, so every button
carries only ``<action>:<context token>[:<value>]`` and anything else is rejected.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from flows.types import Choice, Outbound, context_token

MAX_CALLBACK_BYTES = 64
NO_CONTEXT = "-"
SELECTED = "✅ "

Action = Literal["choice", "number", "toggle", "done", "lang"]

_PRESS = re.compile(r"(?P<action>[cntd]):(?P<context>[0-9a-f]{8}|-)(?::(?P<value>[\w.\-]{1,50}))?",
                    re.ASCII)
_LANG = re.compile(r"l:(?P<value>zh|en)")
_ACTIONS: dict[str, Action] = {"c": "choice", "n": "number", "t": "toggle", "d": "done"}
_LABELS = {
    "zh": {"done": "完成选择", "contact": "📱 发送我的手机号",
           "multi": "（可多选：逐个点选后按“完成选择”，或直接回复数字，如 1,3）",
           "pick": "请选择："},
    "en": {"done": "Done", "contact": "📱 Share my phone number",
           "multi": "(Several allowed: tap each, then “Done”, or reply the numbers, e.g. 1,3)",
           "pick": "Please choose:"},
}


@dataclass(frozen=True)
class Press:
    """A pressed inline button, decoded."""

    action: Action
    context: str | None
    value: str | None = None


def parse_press(data: str) -> Press | None:
    """Decode callback data; ``None`` for anything this bot did not make."""
    if match := _LANG.fullmatch(data):
        return Press("lang", None, match["value"])
    match = _PRESS.fullmatch(data)
    if match is None:
        return None
    action = _ACTIONS[match["action"]]
    value = match["value"]
    if (action == "done") != (value is None):
        return None
    if action in ("number", "toggle") and not (value or "").isdigit():
        return None
    context = None if match["context"] == NO_CONTEXT else match["context"]
    return Press(action, context, value)


def text_language(text: str) -> str:
    """The language of a bot reply, for the few words the channel adds itself."""
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"


def label(key: str, lang: str) -> str:
    return _LABELS[lang][key]


def _token(reply: Outbound) -> str:
    return context_token(reply.context) if reply.context else NO_CONTEXT


def _choice_data(token: str, choice: Choice, number: int) -> str:
    data = f"c:{token}:{choice.id}"
    if _PRESS.fullmatch(data) and len(data.encode()) <= MAX_CALLBACK_BYTES:
        return data
    return f"n:{token}:{number}"  # an id that cannot travel is answered by its number


def choices_text(reply: Outbound) -> str:
    lang = text_language(reply.text)
    text = reply.text or label("pick", lang)
    return f"{text}\n{label('multi', lang)}" if reply.multiple else text


def inline_keyboard(reply: Outbound) -> InlineKeyboardMarkup:
    """One button per choice, numbered so typing the number works too; a multi-select step
    toggles buttons and submits with "Done"."""
    token = _token(reply)
    rows = []
    for number, choice in enumerate(reply.choices, 1):
        text = f"{number}. {choice.label}"
        data = f"t:{token}:{number}" if reply.multiple else _choice_data(token, choice, number)
        rows.append([InlineKeyboardButton(text=text, callback_data=data)])
    if reply.multiple:
        done = label("done", text_language(reply.text))
        rows.append([InlineKeyboardButton(text=done, callback_data=f"d:{token}")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def toggled(markup: InlineKeyboardMarkup, data: str) -> InlineKeyboardMarkup:
    """The same keyboard with the button ``data`` selected or unselected."""
    rows = []
    for row in markup.inline_keyboard:
        buttons = []
        for button in row:
            if button.callback_data == data:
                text = (button.text.removeprefix(SELECTED) if button.text.startswith(SELECTED)
                        else SELECTED + button.text)
                button = InlineKeyboardButton(text=text, callback_data=data)
            buttons.append(button)
        rows.append(buttons)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def selected_numbers(markup: InlineKeyboardMarkup | None) -> list[int]:
    """The numbers of the selected toggle buttons, in keyboard order."""
    numbers = []
    for row in markup.inline_keyboard if markup else []:
        for button in row:
            press = parse_press(button.callback_data or "")
            if press and press.action == "toggle" and button.text.startswith(SELECTED):
                numbers.append(int(press.value or 0))
    return numbers


def contact_keyboard(lang: str) -> ReplyKeyboardMarkup:
    """A one-tap "share my phone number" keyboard (the number arrives as a contact)."""
    button = KeyboardButton(text=label("contact", lang), request_contact=True)
    return ReplyKeyboardMarkup(keyboard=[[button]], resize_keyboard=True, one_time_keyboard=True)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text="中文", callback_data="l:zh"),
        InlineKeyboardButton(text="English", callback_data="l:en")]])
