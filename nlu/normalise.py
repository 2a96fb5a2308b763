"""What the intent classifier reads: one spelling per word, numbers as typed placeholders,
politeness and filler around a request removed.

Families type on phones, often by voice: traditional characters (我媽), dialect (俺, 咋, 礼拜),
phone and ID numbers inside sentences, and 谢谢 / 麻烦您了 / 好嘞 around what they want. The
classifier should see the request, not these.
"""
from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

import jieba
from opencc import OpenCC
from pypinyin import Style, lazy_pinyin

jieba.setLogLevel(logging.WARNING)

#: Placeholders (private-use characters, one token each for jieba and the n-gram features).
PHONE, ID_NUMBER, NUMBER = "\ue001", "\ue002", "\ue003"

_ID = re.compile(r"(?<!\d)(?:\d[ -]?){17}[\dx](?![\da-z])")
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(?:1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-?\d{7,8})"
                    r"(?!\d)")
_DIGITS = re.compile(r"\d+(?:[.:：]\d+)?")
_PUNCT = re.compile(r"[^\w\ue001-\ue003]+|_+")

# Dialect and colloquial spellings → the common word (北方话, 吴语 and voice-input habits).
_VARIANTS = {
    "俺": "我", "咱": "我", "偶": "我", "咋": "怎么", "啥": "什么", "礼拜": "周", "星期": "周",
    "甭": "不用", "木有": "没有", "没得": "没有", "晓得": "知道",
    "滴": "的", "嘞": "了", "哒": "的",
}
_VARIANT_RE = re.compile("|".join(sorted(map(re.escape, _VARIANTS), key=len, reverse=True)))
# 么 typed for the question particle 吗 (在么, 能约么), not inside 什么 / 怎么 / 这么 / 那么 / 多么.
_QUESTION_ME = re.compile(r"(?<![什怎这那多要])么")

# Politeness and filler that carry no request of their own.
_FILLER = (
    "谢谢你们|谢谢您|谢谢你|谢谢啦|谢谢了|谢谢|多谢了|多谢|感谢感谢|感谢|麻烦您了|麻烦你了|麻烦了|"
    "麻烦您|麻烦你|辛苦了|辛苦您了|辛苦您|请问一下|请问|劳驾|打扰了|打扰一下|您好|你好|你们好|"
    "哈喽|喂|好了|好的|好吧|嗯嗯|嗯|啊|呀|哈|哦|噢|呢|吧|嘛|呗|哎|诶|那个|这个|就是说|就是|那什么|"
    "thank you very much|thank you|thanks a lot|thanks|thx|please|pls|hi|hello|hey|um|uh|oh"
)
_LEADING = re.compile(rf"^(?:(?:{_FILLER})\s*)+")
_TRAILING = re.compile(rf"(?:\s*(?:{_FILLER}))+$")
_MIN_LEFT = 2  # characters of request that must remain for filler to be dropped


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=512)  # one message is simplified by every extractor in turn
def simplified(text: str) -> str:
    """``text`` in simplified characters, character for character, so spans keep their place
    (我媽 → 我妈, 換藥 → 换药)."""
    converted = _t2s().convert(text)
    if len(converted) == len(text):
        return converted
    return "".join(_t2s().convert(ch) for ch in text)


def placeholders(text: str) -> str:
    """ID numbers, phone numbers and other numbers replaced by one placeholder each."""
    text = _ID.sub(ID_NUMBER, text)
    text = _PHONE.sub(PHONE, text)
    return _DIGITS.sub(NUMBER, text)


def _without_filler(text: str) -> str:
    core = _TRAILING.sub("", _LEADING.sub("", text))
    return core if len(core.replace(" ", "")) >= _MIN_LEFT else text


def normalise(text: str) -> str:
    """NFKC, lower case, simplified characters, common spellings, typed placeholders for
    numbers, punctuation as single spaces, and thanks or filler around a request dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _t2s().convert(text)
    text = _VARIANT_RE.sub(lambda m: _VARIANTS[m[0]], text)
    text = _QUESTION_ME.sub("吗", text)
    text = placeholders(text)
    text = _PUNCT.sub(" ", text).strip()
    return _without_filler(text)


def content_free(normalised: str) -> bool:
    """Whether nothing but placeholders and spaces is left: a bare phone or ID number."""
    return not normalised.replace(" ", "").strip(PHONE + ID_NUMBER + NUMBER)


def words(normalised: str) -> list[str]:
    """jieba's words (Chinese) and whole words (other scripts), spaces dropped."""
    return [w for w in jieba.lcut(normalised) if w.strip()]


@lru_cache(maxsize=8192)
def _syllable(character: str) -> str:
    return lazy_pinyin(character, style=Style.NORMAL)[0]


def syllables(normalised: str) -> list[list[str]]:
    """The toneless pinyin of each run of Chinese characters (换要 and 换药 are both huan yao,
    海店 and 海淀 both hai dian): voice input and pinyin keyboards err by sound."""
    runs: list[list[str]] = [[]]
    for character in normalised:
        if "\u4e00" <= character <= "\u9fff":
            runs[-1].append(_syllable(character))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


_TOPIC_ONLY = re.compile(r"^\S{0,6}?(?:的事情?|那事|这事|那个事|的问题)$")
_PERSON_ONLY = re.compile(
    r"^(?:我|我们|我家|家里|俺)?的?(?:妈妈?|爸爸?|老妈|老爸|母亲|父亲|爹|娘|老人家?|老爷子|老太太|"
    r"爷爷|奶奶|姥爷|姥姥|外公|外婆|公公|婆婆|岳父|岳母|丈母娘|老丈人|老伴|老公|老婆)$")


def topic_only(normalised: str) -> bool:
    """Whether a message only names a topic or a person and asks nothing ("护士的事",
    "我妈的问题", "我妈那个"): the bot should ask what is wanted rather than act on a guess."""
    compact = normalised.replace(" ", "")
    return bool(_TOPIC_ONLY.match(compact) or _PERSON_ONLY.match(compact))
