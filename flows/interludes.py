"""What a family says besides the answer to the question asked (flows/data/conversation.yaml):
an emergency, a question about the visit, small talk, or a correction of an earlier answer.
The engine asks these readers; they only read, the engine acts."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import yaml
from pydantic import BaseModel, Field

from backend.care import rules as qualification_rules
from backend.care import title_label
from backend.config import catalogue, data_file, hospital_config
from documents.consent import service_line
from flows.messages import join
from flows.spec import DATA


class ConversationRules(BaseModel):
    red_flags: list[list[str]]
    negations: list[str]
    questions: dict[str, list[str]]
    question_marks: list[str]
    small_talk: dict[str, list[str]]
    corrections: list[str]
    vague_corrections: list[str] = Field(default_factory=list)
    correction_value: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def rules() -> ConversationRules:
    override = data_file("flows.conversation.yaml")
    path = override if override.exists() else DATA / "conversation.yaml"
    return ConversationRules.model_validate(yaml.safe_load(path.read_text("utf-8")))


def _contains(text: str, word: str) -> list[int]:
    """Where ``word`` occurs; Latin words only as whole words."""
    lowered = text.lower()
    if word.lower() not in lowered:  # most words of most messages (a turn asks ~120)
        return []
    return [m.start() for m in _pattern(word).finditer(lowered)]


@lru_cache(maxsize=4096)
def _pattern(word: str) -> re.Pattern[str]:
    if word.isascii() and word[:1].isalnum():
        return re.compile(rf"(?<![a-z]){re.escape(word.lower())}(?![a-z])")
    return re.compile(re.escape(word.lower()))


def red_flag(text: str) -> str | None:
    """The first sign of an emergency in the text that is not negated ("没有胸痛")."""
    negations = rules().negations
    for group in rules().red_flags:
        for word in group:
            for at in _contains(text, word):
                before = text[max(0, at - 6):at].lower()
                if not any(n.lower() in before for n in negations):
                    return word
    return None


def question_topic(text: str) -> str | None:
    """The topic of a question about the visit ("需要我们准备纱布吗？" → preparation)."""
    if not any(_contains(text, mark) for mark in rules().question_marks):
        return None
    for topic, words in rules().questions.items():
        if any(_contains(text, w) for w in words):
            return topic
    return None


def small_talk(text: str) -> str | None:
    """"thanks", "greeting" or "wait" when that is all a short message says."""
    cleaned = re.sub(r"[\s，。！？、,.!?~～]+", "", text)
    if not cleaned or len(cleaned) > 40 or re.search(r"\d{5}", cleaned):
        return None
    for kind, words in rules().small_talk.items():
        if kind != "wait" and len(cleaned) > 16:  # a long message is more than thanks
            continue
        if any(_contains(cleaned, re.sub(r"\s+", "", w)) or _contains(text, w) for w in words):
            return kind
    return None


@dataclass(frozen=True)
class Correction:
    word: str                 # the correction word found ("填错了")
    candidates: tuple[str, ...]  # where the new value may stand, most likely first

    @property
    def value_text(self) -> str:
        return self.candidates[0] if self.candidates else ""


def correction(text: str) -> Correction | None:
    """A message saying an earlier answer was wrong, and the places its new value may be:
    after each value marker ("应该是…", "改成…"), latest first, then the whole message."""
    found = next((w for w in rules().corrections if _contains(text, w)), None)
    if found is None:
        return None
    ends = sorted({at + len(marker) for marker in rules().correction_value
                   for at in _contains(text, marker) if at + len(marker) < len(text)}, reverse=True)
    candidates = [text[end:].strip(" ，,。：:") for end in ends]
    return Correction(found, tuple(c for c in [*candidates, text] if c))


def vague_correction(text: str) -> bool:
    """"刚才有一项填错了": a correction that names no fact (the bot then asks which)."""
    return any(_contains(text, w) for w in rules().vague_corrections)


def named_steps(text: str, called: dict[str, list[str]]) -> list[str]:
    """The steps whose facts the text names, in the order it names them; where words overlap
    ("在场人的电话" and "电话") the longest wins."""
    spans: list[tuple[int, int, str]] = []
    for step, words in called.items():
        for word in words:
            for at in _contains(text, word):
                spans.append((at, at + len(word), step))
    chosen: list[tuple[int, int, str]] = []
    for start, end, step in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, step))
    return list(dict.fromkeys(step for _, _, step in sorted(chosen)))


def named_step(text: str, called: dict[str, list[str]]) -> str | None:
    """The first step the text names (see ``named_steps``)."""
    names = named_steps(text, called)
    return names[0] if names else None


def answer_question(topic: str, lang: str, codes: list[str], t: Any) -> str:
    """The answer to a question about the visit, from the hospital's data files."""
    items, config = catalogue(), hospital_config()
    chosen = [items.get(c) for c in codes if items.get(c)]
    if topic == "preparation":
        lines = [t("question.preparation")]
        for item in chosen or []:
            line = service_line(item.code, item.name(lang), item.price, lang)  # type: ignore[union-attr]
            lines.append(f"· {line.name}：{line.preparation}" if lang == "zh" else f"· {line.name}: {line.preparation}")
        if not chosen:
            lines.append(t("question.preparation.general",
                           text=service_line("_default", "", items.bookable[0].price, lang).preparation))
        return "\n".join(lines)
    if topic == "price":
        if chosen:
            names = join(lang, (f"{i.name(lang)} {i.price}" for i in chosen))  # type: ignore[union-attr]
            total = sum((i.price for i in chosen), Decimal(0)) + config.fees.total  # type: ignore[union-attr]
            return t("question.price.chosen", services=names, fees=config.fees.total, total=total)
        return t("question.price", fees=config.fees.total,
                 low=min(i.price for i in items.bookable), high=max(i.price for i in items.bookable))
    if topic == "who":
        nurse = qualification_rules()["nurse"]
        return t("question.who", years=nurse.min_years, title=title_label(nurse.min_title, lang))
    if topic == "duration":
        return t("question.duration")
    if topic == "purpose":
        return t("question.purpose", hospital=config.hospital.name(lang))
    return t("question.cancel", hotline=config.hospital.hotline)
