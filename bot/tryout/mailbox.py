"""Replies pushed to try-out users between turns (the sealed consent, a staff member's message).

A browser cannot be pushed to, so the notifier's sender for the try-out channel keeps the
replies here until the page asks for them (``POST /try/api/updates``). It lives in memory: a
try-out is a demonstration, and the transcript keeps every reply anyway.
"""
from __future__ import annotations

from collections import OrderedDict

from bot.base import Progress
from flows.types import Outbound

MAX_USERS = 1000
MAX_REPLIES = 50


class Mailbox:
    """Per-user queues of pushed replies, bounded in users and in replies per user."""

    def __init__(self, max_users: int = MAX_USERS, max_replies: int = MAX_REPLIES) -> None:
        self.max_users = max_users
        self.max_replies = max_replies
        self._boxes: OrderedDict[str, list[Outbound]] = OrderedDict()

    async def deliver(self, user_id: str, replies: list[Outbound], progress: Progress | None = None) -> None:
        """The notifier's sender: keep the replies until the user's page fetches them."""
        if not replies:
            return
        box = self._boxes.pop(user_id, [])
        box = (box + list(replies))[-self.max_replies:]
        self._boxes[user_id] = box
        while len(self._boxes) > self.max_users:
            self._boxes.popitem(last=False)

    def take(self, user_id: str) -> list[Outbound]:
        """Everything waiting for the user, oldest first; the box is emptied."""
        return self._boxes.pop(user_id, [])
