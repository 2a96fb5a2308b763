"""What a conversation remembers between turns, typed. Saved encrypted after every turn
(``ConversationState.data``) and read back at the next message."""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class OfferedOption(BaseModel):
    """An option as the family last saw it, numbered in this order."""

    id: str
    label: str
    aliases: list[str] = Field(default_factory=list)


class Suspended(BaseModel):
    """A flow the family left with "取消", to continue later with "继续"."""

    flow: str
    step: str | None = None
    answers: dict[str, Any] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)
    history: list[str] = Field(default_factory=list)


class ConversationData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    lang: str = "zh"
    answers: dict[str, Any] = Field(default_factory=dict)  # step → value, as stored
    meta: dict[str, Any] = Field(default_factory=dict)     # ids and results the flow keeps (intake_id…)
    history: list[str] = Field(default_factory=list)       # steps answered, for "返回"
    offered: list[OfferedOption] = Field(default_factory=list)
    misses: int = 0                                         # misunderstood answers in a row
    facts: dict[str, Any] = Field(default_factory=dict)    # step → value a message gave before its question
    return_to: str | None = None                            # where to go back after an earlier step is redone
    revisit: str | None = None                              # an earlier step to redo next
    suspended: Suspended | None = None

    def forget_flow(self) -> None:
        """Everything about the flow under way; the language and a suspended flow stay."""
        self.answers, self.meta, self.history, self.offered, self.facts = {}, {}, [], [], {}
        self.misses, self.return_to, self.revisit = 0, None, None

    @classmethod
    def load(cls, raw: dict[str, Any] | None, lang: str) -> ConversationData:
        data = cls.model_validate(raw or {"lang": lang})
        return data

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True) | {"lang": self.lang}
