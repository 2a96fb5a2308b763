"""What a channel hands the engine. Text longer than ``MAX_TEXT`` characters is cut before the
engine (and its NLU) sees it, and the family is told politely: understanding a 200,000-character
message would hold the event loop for seconds, and no family writes that much in one message.
Files are made safe first (``backend.sanitize``): photos re-encoded, decompression bombs and
PDFs with active content refused with a word on why."""
from __future__ import annotations

import dataclasses

import structlog

from backend import sanitize
from backend.crypto import mask
from bot import activity
from flows.engine import Engine
from flows.messages import t
from flows.types import Inbound, Media, Outbound

log = structlog.get_logger(__name__)

MAX_TEXT = 2000
def _language(inbound: Inbound) -> str:
    return "en" if (inbound.language or "").startswith("en") else "zh"


async def _safe_media(inbound: Inbound) -> tuple[Inbound, list[Outbound]]:
    """The inbound with its files made safe, and a polite word for each file refused."""
    if not inbound.media:
        return inbound, []
    kept: list[Media] = []
    notes: list[Outbound] = []
    for media in inbound.media:
        try:
            data = await sanitize.clean_media(media.data)
        except sanitize.Refused as refused:
            log.info("inbound.file_refused", channel=inbound.channel, user=mask(inbound.user_id),
                     reason=refused.reason)
            notes.append(Outbound.say(t(_language(inbound), f"upload.refused.{refused.reason}")))
            continue
        kept.append(media if data is media.data else dataclasses.replace(media, data=data))
    return dataclasses.replace(inbound, media=kept), notes


async def handle(engine: Engine, inbound: Inbound) -> list[Outbound]:
    """The engine's replies to ``inbound``: its text cut to ``MAX_TEXT`` first when longer, its
    files made safe (a refused file is taken out, and the family told why). Counted as a turn
    in flight (``bot.activity``) while it runs."""
    with activity.turns.turn():
        return await _handle(engine, inbound)


async def _handle(engine: Engine, inbound: Inbound) -> list[Outbound]:
    inbound, notes = await _safe_media(inbound)
    if inbound.text is not None and len(inbound.text) > MAX_TEXT:
        log.info("inbound.too_long", channel=inbound.channel, user=mask(inbound.user_id),
                 length=len(inbound.text))
        notes.append(Outbound.say(t(_language(inbound), "message.too_long", limit=MAX_TEXT)))
        inbound = dataclasses.replace(inbound, text=inbound.text[:MAX_TEXT])
    # the engine says them first, within the turn (and queues them with it where the channel
    # sends through the outbox); a redelivery, or a conversation taken over, gets none
    return await engine.handle(dataclasses.replace(inbound, notices=[*inbound.notices, *notes]))
