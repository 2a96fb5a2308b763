"""The messages of issue #13: numbers, thanks, run-ons and the entities families write."""
from __future__ import annotations

from datetime import timedelta

import pytest

from backend import clock
from nlu.embedded import EmbeddedRecognizer
from nlu.entities import extract_all


@pytest.mark.parametrize("text", ["13800138000", "11010519390218108X", "110105 19390218 108X"])
def test_a_bare_phone_or_id_number_never_says_goodbye(recognizer: EmbeddedRecognizer,
                                                      text: str) -> None:
    parse = recognizer.parse_sync(text)
    assert parse.intent != "goodbye" and not parse.confident
    assert parse.entities


@pytest.mark.parametrize(("text", "intent"), [
    ("人已经送医院了 预约作废吧 身份证11010519390218108X", "cancel_booking"),
    ("12月3号的上门取消 谢谢", "cancel_booking"),
    ("好嘞 麻烦您了 回见", "goodbye"),
    ("我上礼拜给我爸约了个换尿管的到现在也没人联系我这到底约上没有啊", "check_booking"),
    ("没毛病", "affirm"),
    ("这个签名在哪签", "help"),
])
def test_issue_messages(recognizer: EmbeddedRecognizer, text: str, intent: str) -> None:
    parse = recognizer.parse_sync(text)
    assert (parse.intent, parse.confident) == (intent, True), parse.ranking[:3]


def _values(text: str, kind: str) -> list[object]:
    return [e.value for e in extract_all(text) if e.entity == kind]


def test_traditional_characters() -> None:
    assert _values("我媽要換藥", "relation") == ["mother"]
    assert _values("我媽要換藥", "service") == ["wound_care"]


def test_typos() -> None:
    assert _values("伤口换要", "service") == ["wound_care"]
    assert _values("住在海店", "district") == ["海淀区"]


def test_mother_in_law_and_grandma() -> None:
    assert _values("我婆婆要抽血", "relation") == ["mother_in_law"]
    assert _values("my grandma needs a nurse", "relation") == ["grandmother"]


def test_dialect_time_and_month_end() -> None:
    assert _values("下半晌来吧", "time") == ["afternoon"]
    today = clock.today()
    [end] = _values("12月底之前来", "date")
    assert str(end).endswith("-12-31") and str(end) >= today.isoformat()


def test_english_weekday_right_after_chinese() -> None:
    [friday] = _values("改到friday吗", "date")
    day = clock.today() + timedelta(days=(4 - clock.today().weekday()) % 7 or 7)
    assert friday == day.isoformat()


def test_id_number_typed_with_spaces() -> None:
    assert _values("身份证 110105 19390218 108X", "id_number") == ["11010519390218108X"]


def test_name_without_a_cue_word() -> None:
    assert _values("我是她女儿刘丽", "person") == ["刘丽"]
    assert _values("我是她女儿，明天来", "person") == []


def test_next_week_monday_or_tuesday() -> None:
    today = clock.today()
    next_monday = today + timedelta(days=7 - today.weekday())
    assert _values("下礼拜一或者礼拜二", "date") == [
        next_monday.isoformat(), (next_monday + timedelta(days=1)).isoformat()]
