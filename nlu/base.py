"""The recognizer seam: every implementation returns the same Rasa-shaped ``Parse``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

#: Intents at or above this confidence count as understood; below it the flow asks which of
#: ``Parse.top(2)`` was meant (or re-prompts) instead of acting on a guess.
CONFIDENT = 0.6

INTENTS = (
    "greet", "goodbye", "affirm", "deny", "book_service", "check_booking", "cancel_booking",
    "reschedule_booking", "complaint", "ask_price", "ask_services", "ask_eligibility",
    "human_handoff", "help", "restart", "go_back",
)


@dataclass(frozen=True)
class Entity:
    """One extracted value; ``value`` is normalised (a catalogue code, an ISO date, ...)."""

    entity: str
    value: Any
    start: int
    end: int
    text: str = ""
    extractor: str = ""
    role: str | None = None  # Rasa's entity role ("from" / "to"), when the data has roles
    group: str | None = None  # Rasa's entity group (which item of an enumeration)

    def as_dict(self) -> dict[str, Any]:
        found = {"entity": self.entity, "value": self.value, "start": self.start,
                 "end": self.end, "text": self.text, "extractor": self.extractor}
        if self.role is not None:
            found["role"] = self.role
        if self.group is not None:
            found["group"] = self.group
        return found


@dataclass(frozen=True)
class Parse:
    """What a text means: the best intent with its confidence, the ranking and the entities."""

    text: str
    intent: str | None
    confidence: float
    entities: list[Entity] = field(default_factory=list)
    ranking: list[tuple[str, float]] = field(default_factory=list)

    def values(self, name: str) -> list[Any]:
        return [e.value for e in self.entities if e.entity == name]

    def first(self, name: str) -> Any | None:
        found = self.values(name)
        return found[0] if found else None

    @property
    def confident(self) -> bool:
        """Whether the best intent is sure enough to act on (``CONFIDENT``)."""
        return self.intent is not None and self.confidence >= CONFIDENT

    def top(self, n: int = 2) -> list[tuple[str, float]]:
        """The ``n`` most likely intents, best first, to offer as choices when unsure."""
        ranking = self.ranking or ([(self.intent, self.confidence)] if self.intent else [])
        return sorted(ranking, key=lambda pair: -pair[1])[:n]

    def as_rasa(self) -> dict[str, Any]:
        """The JSON shape of Rasa's ``/model/parse``."""
        return {
            "text": self.text,
            "intent": {"name": self.intent, "confidence": self.confidence},
            "entities": [e.as_dict() for e in self.entities],
            "intent_ranking": [{"name": n, "confidence": c} for n, c in self.ranking],
        }


class Recognizer(Protocol):
    """Anything that understands a message: the keyword baseline, the embedded model, Rasa."""

    async def parse(self, text: str) -> Parse: ...
