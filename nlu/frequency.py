"""How often a discharge order asks for visits (DOMAIN.md: discharge orders may name home
services and their frequency): "最好每周来两次", "每周二、周五换药，连续四周", "twice a week for
three weeks".

Read by rules only: these phrases are not dates, and jionlp's time extractor fails on them
(it logs a traceback for "周来两次"), so nlu/dates.py leaves the spans found here alone.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from nlu.normalise import simplified

_CN = {"一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
       "九": 9, "十": 10, "十二": 12}
_NUM = r"(?:\d{1,2}|十二|[一二两俩三四五六七八九十])"
_WEEK = r"(?:周|星期|礼拜)"
_DAY = r"[一二三四五六日天]"
_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_EN_DAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
            "saturday": 5, "sunday": 6}
_EN_NUM = {"once": 1, "twice": 2, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
           "six": 6, "eight": 8, "twelve": 12}

# 每周二、周五 / 每个星期二和星期五 / 每周二五
_DAYS_ZH = re.compile(rf"每(?:个)?{_WEEK}({_DAY}(?:\s*(?:[、,，和跟及与/]|还有)?\s*{_WEEK}?{_DAY})*)(?![次回趟])")
# 每周来两次 / 一周两次 / 每星期2次 / 每周上门三次
_TIMES_ZH = re.compile(rf"(?:每|一)(?:个)?{_WEEK}(?:[^，,。；;\d一二两俩三四五六七八九十]{{0,4}})({_NUM})(?:次|回|趟)")
# 连续四周 / 持续4周 / 共三个星期 / 一个月
_WEEKS_ZH = re.compile(rf"(?:连续|持续|一共|共|坚持|为期|做)?({_NUM})(?:个)?{_WEEK}(?![{''.join(_WEEKDAY)}])")
_MONTHS_ZH = re.compile(rf"(?:连续|持续|一共|共|坚持|为期)?({_NUM}|半)个月")
_DAYS_EN = re.compile(r"\bevery\s+((?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
                      r"(?:\s*,\s*|\s+and\s+|\s*&\s*)?)+)", re.I)
_TIMES_EN = re.compile(r"\b(once|twice|one|two|three|four|five|six|\d)\s*(?:times?\s+)?(?:a|per|every)\s+week\b", re.I)
_WEEKS_EN = re.compile(r"\bfor\s+(\d{1,2}|one|two|three|four|five|six|eight|twelve|a)\s+(weeks?|months?)\b", re.I)


def _number(token: str) -> int:
    token = token.lower()
    if token.isdigit():
        return int(token)
    return _CN.get(token) or _EN_NUM.get(token) or (1 if token == "a" else 0)


@dataclass(frozen=True)
class Frequency:
    """Visits a week (on named weekdays, Monday=0, or a number a week) and for how many weeks."""

    weekdays: tuple[int, ...] = ()
    per_week: int = 0
    weeks: int | None = None
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def visits_a_week(self) -> int:
        return len(self.weekdays) or self.per_week

    def phrase(self) -> str:
        """The frequency as a canonical phrase this module reads back ("每周二、周五，连续4周")."""
        days = "、".join("周" + "一二三四五六日"[d] for d in self.weekdays)
        text = f"每{days}" if days else f"每周{self.per_week}次"
        return text + (f"，连续{self.weeks}周" if self.weeks else "")


def read_frequency(text: str) -> Frequency | None:
    """The frequency the text names, or None; ``spans`` say where it was written."""
    text = simplified(text)
    spans: list[tuple[int, int]] = []
    weekdays: list[int] = []
    per_week = 0
    found = _DAYS_ZH.search(text)
    if found:
        weekdays = list(dict.fromkeys(_WEEKDAY[c] for c in re.findall(_DAY, found[1])))
        spans.append(found.span())
    found_en = _DAYS_EN.search(text)
    if not weekdays and found_en:
        weekdays = list(dict.fromkeys(_EN_DAYS[d.lower()] for d in re.findall(
            r"monday|tuesday|wednesday|thursday|friday|saturday|sunday", found_en[1], re.I)))
        spans.append(found_en.span())
    times = _TIMES_ZH.search(text) or _TIMES_EN.search(text)
    if times:
        per_week = _number(times[1])
        spans.append(times.span())
    if not weekdays and not 1 <= per_week <= 7:
        return None
    weeks: int | None = None
    for pattern in (_WEEKS_ZH, _WEEKS_EN):
        for match in pattern.finditer(text):
            if any(s <= match.start() < e for s, e in spans):
                continue
            count = _number(match[1])
            unit = match[2].lower() if pattern is _WEEKS_EN else "week"
            weeks = count * 4 if unit.startswith("month") else count
            spans.append(match.span())
            break
        if weeks:
            break
    months = _MONTHS_ZH.search(text) if weeks is None else None
    if months:
        weeks = 2 if months[1] == "半" else _number(months[1]) * 4
        spans.append(months.span())
    return Frequency(tuple(sorted(weekdays)), per_week if not weekdays else 0, weeks or None,
                     tuple(sorted(spans)))
