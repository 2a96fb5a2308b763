"""What a step is: what it asks, which choices it offers, how an answer is read and checked.

Navigation (asking, re-asking, back, restart, hand-off, persistence) lives once in the engine.
"""
from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flows.types import Choice, Location, Media

if TYPE_CHECKING:
    from flows.engine import Turn
    from flows.spec import FlowSpec

END = "__end__"
STAY = object()  # the step keeps the conversation where it is (e.g. more uploads may follow)
AGAIN = object()  # the step asks its question again, changed (e.g. later dates), and it is no miss


class Reprompt(Exception):
    """The answer does not fit: tell the family why, then ask the same question again."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Option:
    """A choice as offered: the id, the label shown, and other words that also pick it."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()

    def as_choice(self) -> Choice:
        return Choice(self.id, self.label)


@dataclass
class Prompt:
    text: str
    options: list[Option] = field(default_factory=list)
    multiple: bool = False
    request_contact: bool = False
    preface: list[str] = field(default_factory=list)


@dataclass
class Answer:
    """What the family gave at a step, already matched against the offered options."""

    text: str
    option: Option | None = None
    options: list[Option] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    location: Location | None = None


PromptFn = Callable[["Turn"], Awaitable[Prompt]]
AcceptFn = Callable[["Turn", Answer], Awaitable[Any]]
AfterFn = Callable[["Turn", Any], Awaitable[str | None]]


async def _no_after(turn: Turn, value: Any) -> None:
    return None


def _never(turn: Turn) -> bool:
    return False


@dataclass
class Step:
    name: str
    prompt: PromptFn
    accept: AcceptFn
    after: AfterFn = _no_after
    skip: Callable[[Turn], bool] = _never
    accepts_media: bool = False


@dataclass
class Flow:
    name: str
    steps: list[Step]
    finish: Callable[[Turn], Awaitable[None]]
    spec: FlowSpec | None = None

    def index(self, name: str) -> int:
        return next(i for i, step in enumerate(self.steps) if step.name == name)

    def step(self, name: str) -> Step:
        return self.steps[self.index(name)]


_SPACES = re.compile(r"[\s，。！？、,.!?~～：:；;“”\"'（）()]+")


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """The text without spaces and punctuation, lower-cased, for comparing words (kept: the
    same labels and aliases are compared at every turn)."""
    return _SPACES.sub("", text).lower()


def match_option(text: str, options: list[Option], *, numbers: bool = True) -> Option | None:
    """Read a reply as one option: its number (unless ``numbers`` is False: options the family
    never saw have no numbers), its words or an alias, or a unique partial match."""
    cleaned = normalize(text)
    if not cleaned:
        return None
    number = cleaned.rstrip("号")
    if number.isdigit():
        return options[int(number) - 1] if numbers and 1 <= int(number) <= len(options) else None
    for option in options:
        if cleaned == normalize(option.label) or cleaned in (normalize(a) for a in option.aliases):
            return option
    if len(cleaned) >= 2:
        partial = [o for o in options if cleaned in normalize(o.label) or normalize(o.label) in cleaned]
        if len(partial) == 1:
            return partial[0]
    return None


def match_many(text: str, options: list[Option]) -> list[Option]:
    """Several options by number ("1,3", "1 3", "1、3") or by words, in the order given."""
    parts = [p for p in re.split(r"[\s,，、;；和及+]+", text.strip()) if p]
    if parts and all(p.rstrip("号").isdigit() for p in parts):
        picked = []
        for part in parts:
            index = int(part.rstrip("号"))
            if not 1 <= index <= len(options):
                return []
            if options[index - 1] not in picked:
                picked.append(options[index - 1])
        return picked
    single = match_option(text, options)
    return [single] if single else []
