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
from backend.config import catalogue, data_file, hospital_config
from documents.consent import service_line
from flows.spec import DATA


class ConversationRules(BaseModel):
    red_flags: list[list[str]]
    negations: list[str]
    questions: dict[str, list[str]]
    question_marks: list[str]
    small_talk: dict[str, list[str]]
    corrections: list[str]
    correction_value: list[str] = Field(default_factory=list)


@lru_cache(maxsize=1)
def rules() -> ConversationRules:
    override = data_file("flows.conversation.yaml")
    path = override if override.exists() else DATA / "conversation.yaml"
    return ConversationRules.model_validate(yaml.safe_load(path.read_text("utf-8")))


def _contains(text: str, word: str) -> list[int]:
    """Where ``word`` occurs; Latin words only as whole words."""
    lowered = text.lower()
    if word.isascii() and word[:1].isalnum():
        return [m.start() for m in re.finditer(rf"(?<![a-z]){re.escape(word.lower())}(?![a-z])", lowered)]
    return [m.start() for m in re.finditer(re.escape(word.lower()), lowered)]


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
    if not cleaned or len(cleaned) > 16:
        return None
    for kind, words in rules().small_talk.items():
        if any(_contains(cleaned, re.sub(r"\s+", "", w)) or _contains(text, w) for w in words):
            return kind
    return None


@dataclass(frozen=True)
class Correction:
    word: str        # the correction word found ("填错了")
    value_text: str  # what follows the value marker, "" when the message gives no new value


def correction(text: str) -> Correction | None:
    """A message saying an earlier answer was wrong, and the new value if it gives one."""
    found = next((w for w in rules().corrections if _contains(text, w)), None)
    if found is None:
        return None
    value = ""
    best = -1
    for marker in rules().correction_value:
        for at in _contains(text, marker):
            end = at + len(marker)
            if end > best and end < len(text):
                best, value = end, text[end:]
    return Correction(found, value.strip(" ，,。：:"))


def named_step(text: str, called: dict[str, list[str]]) -> str | None:
    """The step whose fact the text names, by the longest of the steps' ``called`` words."""
    best: tuple[int, str] | None = None
    for step, words in called.items():
        for word in words:
            if _contains(text, word) and (best is None or len(word) > best[0]):
                best = (len(word), step)
    return best[1] if best else None


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
            sep = "、" if lang == "zh" else ", "
            names = sep.join(f"{i.name(lang)} {i.price}" for i in chosen)  # type: ignore[union-attr]
            total = sum((i.price for i in chosen), Decimal(0)) + config.fees.total  # type: ignore[union-attr]
            return t("question.price.chosen", services=names, fees=config.fees.total, total=total)
        return t("question.price", fees=config.fees.total,
                 low=min(i.price for i in items.bookable), high=max(i.price for i in items.bookable))
    if topic == "who":
        nurse = qualification_rules()["nurse"]
        return t("question.who", years=nurse.min_years, title=nurse.min_title)
    if topic == "duration":
        return t("question.duration")
    return t("question.cancel", hotline=config.hospital.hotline)
