"""What every channel adapter does: turn its input into an ``Inbound``, render ``Outbound``."""
from __future__ import annotations

from abc import ABC, abstractmethod

from flows.messages import t
from flows.types import Outbound


def numbered(reply: Outbound, lang: str = "zh") -> str:
    """Choices as numbered lines, for channels without buttons (terminal, WeChat)."""
    lines = [reply.text] if reply.text else []
    lines += [f"{i}. {choice.label}" for i, choice in enumerate(reply.choices, 1)]
    if reply.choices:
        lines.append(t(lang, "choices.numbers.multiple" if reply.multiple else "choices.numbers.single"))
    return "\n".join(lines)


class Channel(ABC):
    """A channel adapter. It owns its transport; flows never see it."""

    name: str

    @abstractmethod
    async def deliver(self, user_id: str, replies: list[Outbound]) -> None:
        """Send the replies of one turn to the user, in order."""
