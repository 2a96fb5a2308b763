"""What a channel hands the engine: text longer than ``MAX_TEXT`` characters is cut before the
engine (and its NLU) sees it, and the family is told politely. Understanding a 200,000-character
message would hold the event loop for seconds; no family writes that much in one message."""
from __future__ import annotations

import dataclasses

import structlog

from backend.crypto import mask
from flows.engine import Engine
from flows.types import Inbound, Outbound

log = structlog.get_logger(__name__)

MAX_TEXT = 2000
TOO_LONG = {
    "zh": f"您的消息太长了，我只读了前 {MAX_TEXT} 个字。内容较多时，请分几条发送，或说“转人工”。",
    "en": f"Your message was very long; I read only its first {MAX_TEXT} characters. Please send "
          "long texts in several messages, or say “human” to talk to a person.",
}


async def handle(engine: Engine, inbound: Inbound) -> list[Outbound]:
    """The engine's replies to ``inbound``, its text cut to ``MAX_TEXT`` first when longer."""
    if inbound.text is None or len(inbound.text) <= MAX_TEXT:
        return await engine.handle(inbound)
    log.info("inbound.too_long", channel=inbound.channel, user=mask(inbound.user_id),
             length=len(inbound.text))
    replies = await engine.handle(dataclasses.replace(inbound, text=inbound.text[:MAX_TEXT]))
    if not replies:  # a redelivery, or a member of staff has taken the conversation over
        return replies
    lang = "en" if (inbound.language or "").startswith("en") else "zh"
    return [Outbound.say(TOO_LONG[lang]), *replies]
