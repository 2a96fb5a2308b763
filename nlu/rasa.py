"""Intents and entities from a Rasa server, with the embedded model as the fallback.

Rasa answers ``POST {url}/model/parse``; an answer later than ``settings.rasa_timeout`` or any
error falls back to the embedded recognizer, so a family is never kept waiting on Rasa.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import aiohttp
import structlog

from nlu.base import INTENTS, Entity, Parse, Recognizer
from nlu.entities import extract_all

log = structlog.get_logger(__name__)

# Kinds whose value jiahu normalises or validates itself (ISO dates, checksummed ID numbers):
# Rasa's raw text for these is replaced by the local extractors.
_LOCAL_KINDS = {"date", "time", "phone", "id_number"}


def to_parse(text: str, body: dict[str, Any], today: date | None = None) -> Parse:
    """Map Rasa's ``/model/parse`` JSON into a ``Parse``; intents jiahu does not know (such as
    Rasa's ``nlu_fallback``) become no intent."""
    ranking = [(str(item["name"]), float(item.get("confidence", 0.0)))
               for item in body.get("intent_ranking") or [] if item.get("name") in INTENTS]
    intent_body = body.get("intent") or {}
    name = intent_body.get("name")
    intent = name if name in INTENTS else None
    confidence = float(intent_body.get("confidence", 0.0)) if intent else 0.0
    if intent and not ranking:
        ranking = [(intent, confidence)]
    entities = extract_all(text, today)
    for item in body.get("entities") or []:
        kind = item.get("entity")
        if not kind or kind in _LOCAL_KINDS:
            continue
        start, end = int(item.get("start", 0)), int(item.get("end", 0))
        value = item.get("value")
        if any(e.entity == kind and (e.start < end and start < e.end or e.value == value)
               for e in entities):
            continue
        entities.append(Entity(kind, value, start, end, text[start:end],
                               str(item.get("extractor") or "rasa")))
    entities.sort(key=lambda e: (e.start, -e.end))
    return Parse(text, intent, confidence, entities, ranking)


class RasaRecognizer:
    """A Rasa server's understanding, or the ``fallback`` recognizer's when Rasa fails."""

    def __init__(self, url: str, fallback: Recognizer, timeout: float = 0.5) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.timeout = timeout

    async def parse(self, text: str) -> Parse:
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.post(self.url, json={"text": text}) as response:
                response.raise_for_status()
                body = await response.json(content_type=None)
            return to_parse(text, body)
        except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
            log.warning("nlu.rasa_fallback", url=self.url, error=type(exc).__name__,
                        detail=str(exc)[:200])
            return await self.fallback.parse(text)
