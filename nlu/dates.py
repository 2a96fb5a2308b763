"""Visit dates and times of day in Chinese and English, always read forward in time.

A family asking for "周五" or "11月20号" means the next such day: a booking is never in the
past. Common words go through fast rules; anything else with a date cue is handed to
jionlp's time extractor, imported lazily because it is slow to load and to warm up.
"""
from __future__ import annotations

import contextlib
import io
import re
import time as _time
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from backend import clock
from nlu.base import Entity
from nlu.frequency import read_frequency
from nlu.normalise import simplified

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}
_NUM = r"(?:\d{1,2}|[一二两三四五六七八九十]{1,3})"


def _number(token: str) -> int:
    """An Arabic or Chinese numeral up to 99 (十一 → 11, 二十五 → 25)."""
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, units = token.partition("十")
        high = _CN_DIGITS.get(tens, 1) if tens else 1
        return high * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
    return _CN_DIGITS.get(token, 0)


_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_WEEKDAYS_EN = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2,
                "wed": 2, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4,
                "saturday": 5, "sat": 5, "sunday": 6, "sun": 6, "weekend": 5}
_MONTHS_EN = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
              "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12}
_RELATIVE_DAYS = {"今天": 0, "今儿": 0, "今日": 0, "明天": 1, "明儿": 1, "明日": 1, "后天": 2,
                  "后儿": 2, "大后天": 3, "today": 0, "tonight": 0, "tomorrow": 1, "tmr": 1,
                  "tmrw": 1, "day after tomorrow": 2, "the day after tomorrow": 2}

_RELATIVE_RE = re.compile("|".join(sorted(map(re.escape, _RELATIVE_DAYS), key=len, reverse=True)),
                          re.IGNORECASE)
_WEEKDAY_ZH_RE = re.compile(r"(下下个?|下个?|这个?|本|这一?)?(?:周|星期|礼拜)([一二三四五六日天末])")
# (?<![a-z]) rather than \b: Chinese characters are word characters, and families write
# "改到friday吗" without a space.
_WEEKDAY_EN_RE = re.compile(
    r"(?<![a-z])(?:(next|this|coming)\s+)?(" + "|".join(sorted(_WEEKDAYS_EN, key=len,
                                                                reverse=True))
    + r")(?![a-z])\.?", re.IGNORECASE)
# "下礼拜一或者礼拜二": the second weekday is in the same week as the first.
_WEEKDAY_JOIN = re.compile(r"\s*(?:或者|或是|或|还是|和|跟|、|/|,|，|or|and)\s*$", re.IGNORECASE)
_MONTH_PART_RE = re.compile(rf"(?:({_NUM})月(?:份)?|(下个?月|本月|这个?月))(底|末|初|中旬)")
_MONTH_DAY_ZH_RE = re.compile(rf"(?:(\d{{4}})年)?({_NUM})月(?:份)?({_NUM})(?:日|号|號)?")
_DAY_ZH_RE = re.compile(rf"(?<![\d月一二三四五六七八九十])({_NUM})(?:号|號)")
_MONTH_NAMES = "|".join(["january", "february", "march", "april", "june", "july", "august",
                         "september", "october", "november", "december", *_MONTHS_EN])
_MONTH_DAY_EN_RE = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b",
                              re.IGNORECASE)
_DAY_MONTH_EN_RE = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_NAMES})\b",
                              re.IGNORECASE)
_ISO_RE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_SLASH_RE = re.compile(r"(?<![\d/.-])(\d{1,2})/(\d{1,2})(?![\d/])")
_IN_DAYS_RE = re.compile(rf"(?:in\s+(\d{{1,2}})\s+days?)|(?:({_NUM})天(?:以)?后)", re.IGNORECASE)
_DATE_CUE = re.compile(r"[月号號日周天]|星期|礼拜|节|过年|下个?月|月底|月初")


def _month(name: str) -> int:
    return _MONTHS_EN[name.lower()[:3]]


def _forward(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """The next ``month``/``day`` on or after ``today`` (an explicit year is kept)."""
    try:
        found = date(year or today.year, month, day)
        if found < today and year is None:
            found = date(today.year + 1, month, day)
    except ValueError:
        return None
    return found if found >= today else None


def _month_part(today: date, month_number: str | None, relative: str | None,
                part: str) -> date | None:
    """12月底 → 31 December, 下个月初 → the 1st of next month, 月中旬 → the 15th."""
    if month_number:
        month, year = _number(month_number), today.year
        if not 1 <= month <= 12:
            return None
        if month < today.month:
            year += 1
    else:
        ahead = 1 if relative and relative.startswith("下") else 0
        month = (today.month - 1 + ahead) % 12 + 1
        year = today.year + (today.month - 1 + ahead) // 12
    if part in ("底", "末"):
        following = date(year + month // 12, month % 12 + 1, 1)
        day = following - timedelta(days=1)
    else:
        day = date(year, month, 1 if part == "初" else 15)
    return day if day >= today else None


def _weekday(today: date, target: int, weeks_ahead: int) -> date:
    """The next ``target`` weekday after today (never today), plus whole weeks for 下/next."""
    delta = (target - today.weekday()) % 7 or 7
    if weeks_ahead:
        # 下周三 is the Wednesday of next calendar week, which may be 8-13 days away.
        monday_next = today + timedelta(days=7 - today.weekday() + 7 * (weeks_ahead - 1))
        return monday_next + timedelta(days=target)
    return today + timedelta(days=delta)


def _rule_dates(text: str, today: date) -> list[Entity]:
    found: list[Entity] = []

    def add(start: int, end: int, day: date | None) -> None:
        if day is None or any(e.start < end and start < e.end for e in found):
            return
        found.append(Entity("date", day.isoformat(), start, end, text[start:end], "rules"))

    for m in _ISO_RE.finditer(text):
        add(m.start(), m.end(), _forward(today, int(m[2]), int(m[3]), int(m[1])))
    for m in _MONTH_DAY_ZH_RE.finditer(text):
        year = int(m[1]) if m[1] else None
        add(m.start(), m.end(), _forward(today, _number(m[2]), _number(m[3]), year))
    for m in _MONTH_DAY_EN_RE.finditer(text):
        add(m.start(), m.end(), _forward(today, _month(m[1]), int(m[2])))
    for m in _DAY_MONTH_EN_RE.finditer(text):
        add(m.start(), m.end(), _forward(today, _month(m[2]), int(m[1])))
    for m in _RELATIVE_RE.finditer(text):
        add(m.start(), m.end(), today + timedelta(days=_RELATIVE_DAYS[m[0].lower()]))
    previous: tuple[int, int] | None = None  # end and weeks ahead of the last weekday
    for m in _WEEKDAY_ZH_RE.finditer(text):
        prefix = m[1] or ""
        weeks = 2 if prefix.startswith("下下") else 1 if prefix.startswith("下") else 0
        if not prefix and previous and _WEEKDAY_JOIN.fullmatch(text[previous[0]:m.start()]):
            weeks = previous[1]
        add(m.start(), m.end(), _weekday(today, _WEEKDAYS_ZH[m[2]], weeks))
        previous = (m.end(), weeks)
    for m in _MONTH_PART_RE.finditer(text):
        add(m.start(), m.end(), _month_part(today, m[1], m[2], m[3]))
    for m in _WEEKDAY_EN_RE.finditer(text):
        word = m[2].lower()
        if word in ("sun", "sat", "wed") and not m[1] and m[2].islower():
            continue  # "sat", "wed", "sun" in lower case are more often words than days
        add(m.start(), m.end(), _weekday(today, _WEEKDAYS_EN[word], 0))
    for m in _IN_DAYS_RE.finditer(text):
        add(m.start(), m.end(), today + timedelta(days=_number(m[1] or m[2])))
    for m in _DAY_ZH_RE.finditer(text):
        dom = _number(m[1])
        month, year = today.month, today.year
        if dom < today.day:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        try:
            add(m.start(), m.end(), date(year, month, dom))
        except ValueError:
            continue
    for m in _SLASH_RE.finditer(text):
        add(m.start(), m.end(), _forward(today, int(m[1]), int(m[2])))
    return found


def _jionlp_dates(text: str, today: date) -> list[Entity]:
    """jionlp's time extractor for what the rules do not know (下个月五号, 国庆节后...)."""
    with contextlib.redirect_stdout(io.StringIO()):  # jionlp prints a banner on import
        import jionlp  # noqa: PLC0415 - lazy: jionlp is slow to load and rarely needed

    base = _time.mktime((today.year, today.month, today.day, 9, 0, 0, 0, 0, -1))
    try:
        # jionlp prints a traceback for every phrase it cannot parse (每周来一次): not ours to show
        with contextlib.redirect_stderr(io.StringIO()):
            results: list[dict[str, Any]] = jionlp.ner.extract_time(text, time_base=base,
                                                                    with_parsing=True)
    except Exception:  # noqa: BLE001 - jionlp raises bare errors on odd input
        return []
    found = []
    for item in results:
        detail = item.get("detail", {})
        if detail.get("type") != "time_point":
            continue
        try:
            day = date.fromisoformat(str(detail["time"][0])[:10])
        except (KeyError, IndexError, ValueError):
            continue
        if day < today:
            continue
        start, end = item["offset"]
        found.append(Entity("date", day.isoformat(), start, end, text[start:end], "jionlp"))
    return found


def extract_dates(text: str, today: date | None = None, *, fallback: bool = True) -> list[Entity]:
    """Dates as ISO strings; the next such day, never a past one."""
    today = today or clock.today()
    simple = _without_frequency(simplified(text))  # 週六, 禮拜二, 下週
    found = _rule_dates(simple, today)
    if not found and fallback and _DATE_CUE.search(simple):
        found = _jionlp_dates(simple, today)
    return sorted((_original(e, text) for e in found), key=lambda e: e.start)


def _without_frequency(text: str) -> str:
    """The text with a visit frequency ("每周二、周五", "每周来两次") blanked out: it names no
    date, and jionlp fails on it."""
    frequency = read_frequency(text)
    for start, end in frequency.spans if frequency else ():
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _original(entity: Entity, text: str) -> Entity:
    """The entity with its text as the family wrote it (spans are the same after
    ``simplified``)."""
    return replace(entity, text=text[entity.start:entity.end])


_TIME_WORDS = {
    "上午": "morning", "早上": "morning", "早晨": "morning", "清早": "morning", "一早": "morning",
    "大早": "morning", "早点": "morning", "上半天": "morning", "早上头": "morning",
    "上半晌": "morning", "前半晌": "morning", "前晌": "morning", "头午": "morning",
    "中午": "noon", "晌午": "noon", "下半晌": "afternoon", "后半晌": "afternoon",
    "过午": "afternoon", "午饭": "noon", "下午": "afternoon", "下半天": "afternoon",
    "午后": "afternoon", "后晌": "afternoon", "晚上": "evening", "傍晚": "evening",
    "晚些": "evening", "夜里": "evening", "黄昏": "evening",
    "晚半晌": "evening", "morning": "morning", "a.m.": "morning", "noon": "noon", "midday": "noon",
    "lunchtime": "noon", "afternoon": "afternoon", "p.m.": "afternoon", "evening": "evening",
    "tonight": "evening",
}
_TIME_RE = re.compile("|".join(sorted(map(re.escape, _TIME_WORDS), key=len, reverse=True)),
                      re.IGNORECASE)
_HOUR_RE = re.compile(rf"(?<![\d:])({_NUM})\s*(?:点|點|:00|：00|\s*(am|pm|a\.m\.|p\.m\.|o'clock))",
                      re.IGNORECASE)


def _hour_period(hour: int, suffix: str) -> str | None:
    suffix = suffix.lower().replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    if 5 <= hour < 12:
        return "morning"
    if hour == 12:
        return "noon"
    if 13 <= hour < 18 or (suffix != "am" and 1 <= hour <= 5):
        return "afternoon"
    if 18 <= hour <= 23:
        return "evening"
    return None


def extract_time_of_day(text: str) -> list[Entity]:
    """Part of the day ("morning", "noon", "afternoon", "evening") from words or clock hours."""
    original, text = text, simplified(text)
    found = [Entity("time", _TIME_WORDS[m[0].lower()], m.start(), m.end(),
                    original[m.start():m.end()], "rules") for m in _TIME_RE.finditer(text)]
    if found:
        return found
    for m in _HOUR_RE.finditer(text):
        period = _hour_period(_number(m[1]), m[2] or "")
        if period:
            found.append(Entity("time", period, m.start(), m.end(), original[m.start():m.end()],
                                "rules"))
    return found
