"""Callback data stays small and only what the bot made is accepted."""
from __future__ import annotations

import pytest

from bot.telegram.keyboards import Press, inline_keyboard, parse_press, selected_numbers, toggled
from flows.types import Choice, Outbound, context_token


def test_buttons_carry_the_step_token_and_choice_id_within_64_bytes():
    long_id = "x" * 60
    reply = Outbound(kind="choices", text="请选择", context="intake:q_feeding",
                     choices=[Choice("independent", "完全独立"), Choice(long_id, "很长的选项"),
                              Choice("带中文", "中文编号")])
    rows = inline_keyboard(reply).inline_keyboard
    token = context_token("intake:q_feeding")
    assert [r[0].text for r in rows] == ["1. 完全独立", "2. 很长的选项", "3. 中文编号"]
    assert [r[0].callback_data for r in rows] == [f"c:{token}:independent", f"n:{token}:2", f"n:{token}:3"]
    assert all(len((r[0].callback_data or "").encode()) <= 64 for r in rows)


def test_multi_select_toggles_and_submits_the_selected_numbers():
    reply = Outbound(kind="choices", text="Which services?", context="intake:services", multiple=True,
                     choices=[Choice("a", "A"), Choice("b", "B"), Choice("c", "C")])
    markup = inline_keyboard(reply)
    token = context_token("intake:services")
    assert markup.inline_keyboard[-1][0].text == "Done"
    markup = toggled(toggled(toggled(markup, f"t:{token}:1"), f"t:{token}:3"), f"t:{token}:1")
    assert selected_numbers(markup) == [3]
    assert markup.inline_keyboard[2][0].text == "✅ 3. C"


@pytest.mark.parametrize(("data", "press"), [
    ("c:0123abcd:agree", Press("choice", "0123abcd", "agree")),
    ("n:0123abcd:12", Press("number", "0123abcd", "12")),
    ("t:0123abcd:2", Press("toggle", "0123abcd", "2")),
    ("d:0123abcd", Press("done", "0123abcd")),
    ("c:-:agree", Press("choice", None, "agree")),
    ("l:en", Press("lang", None, "en")),
])
def test_valid_callback_data(data, press):
    assert parse_press(data) == press


@pytest.mark.parametrize("data", [
    "", "c", "c:0123abcd", "d:0123abcd:1", "n:0123abcd:x", "t:0123abcd:abc", "c:0123ABCD:agree",
    "c:0123abcd:agree:more", "c:0123abcd:a b", "c:0123abcd:中文", "l:fr", "x:0123abcd:1",
    "c:0123abcd:" + "a" * 51,
])
def test_malformed_callback_data_is_rejected(data):
    assert parse_press(data) is None
