"""A booking made through the whole conversation, its consent sealed: what the exports read."""
from __future__ import annotations

import re

import pytest

from bot.notifier import deliver_notifications


@pytest.fixture
async def booking_number(dialogue, runtime) -> str:
    await dialogue.intake()
    runtime.senders.pop("terminal", None)
    await deliver_notifications(runtime)  # renders and seals the consent
    return re.search(r"JH\d{12}", dialogue.log[-1]).group()
