"""What every channel adapter does: turn its input into an ``Inbound``, render ``Outbound``."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from flows.messages import t
from flows.types import Outbound


class Undeliverable(Exception):
    """The channel refused a message for good (the family blocked the bot, unfollowed the
    account, the chat is gone): recorded and given up, never retried. Any other error is
    taken as passing (a 5xx, the network) and the message is retried with back-off."""


@dataclass
class Progress:
    """How far a queued message got: ``done`` channel messages already went out (a retry
    resumes after them); ``sent`` records one more as soon as it is accepted."""

    done: int = 0
    record: Callable[[int], Awaitable[None]] | None = None

    async def sent(self, count: int) -> None:
        self.done = count
        if self.record is not None:
            await self.record(count)


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
    async def deliver(self, user_id: str, replies: list[Outbound], progress: Progress | None = None) -> None:
        """Send the replies of one turn to the user, in order, after the ``progress.done``
        channel messages already sent; raises ``Undeliverable`` when the channel refuses for good."""
