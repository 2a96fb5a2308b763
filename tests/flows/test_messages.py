"""The message catalogues: both languages say everything, and English reads as English."""
from __future__ import annotations

import re

from backend.care import rules
from flows.messages import catalogue, join

# CJK characters and the full-width punctuation of Chinese text (、，（）：“” …)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\u201c\u201d]")


def test_both_languages_have_every_message():
    assert set(catalogue("zh")) == set(catalogue("en"))


def test_no_english_message_carries_chinese_characters_or_punctuation():
    found = {key: CJK.findall(text) for key, text in catalogue("en").items() if CJK.search(text)}
    assert found == {}


def test_lists_are_joined_as_each_language_writes_them():
    assert join("zh", ["换药", "采血"]) == "换药、采血"
    assert join("en", ["Dressing change", "Blood sampling"]) == "Dressing change, Blood sampling"


def test_every_professional_title_has_a_reviewed_english_name():
    for role, rule in rules().items():
        assert set(rule.titles_en) == set(rule.titles), role
        assert not any(CJK.search(name) or "practitioner" in name for name in rule.titles_en.values())
