"""What the classifier reads: pinyin syllables that make homophone typos meet their word."""
from __future__ import annotations

from nlu.normalise import normalise, syllables


def test_homophone_typos_share_their_syllables() -> None:
    assert syllables(normalise("换要 海店区")) == syllables(normalise("换药 海淀区"))
    assert syllables(normalise("換藥")) == [["huan", "yao"]]


def test_syllables_break_at_anything_not_chinese() -> None:
    assert syllables(normalise("约个PICC维护 13800138000 明天")) == [
        ["yue", "ge"], ["wei", "hu"], ["ming", "tian"]]
    assert syllables("hello") == []


def test_me_typed_for_the_question_particle() -> None:
    assert normalise("在么") == normalise("在吗")
    assert normalise("能约么") == "能约吗"
    assert normalise("什么时候来") == "什么时候来"
    assert normalise("怎么这么贵") == "怎么这么贵"


def test_a_message_naming_only_a_person_asks_nothing() -> None:
    from nlu.normalise import topic_only

    assert topic_only(normalise("我妈那个"))
    assert topic_only(normalise("俺娘"))
    assert topic_only(normalise("护士的事"))
    assert not topic_only(normalise("我妈明天换药"))
