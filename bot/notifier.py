"""Delivers the outboxes: queued messages to families through their channel, and signed
events to the hospital's system. Runs inside ``jiahu serve``; safe with several processes."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import aiohttp
import structlog

from backend import notify
from backend.db import transaction
from backend.models import ChannelUser
from backend.types import utcnow
from bot.runtime import Runtime

log = structlog.get_logger(__name__)


async def deliver_notifications(runtime: Runtime, limit: int = 20) -> int:
    """Deliver what is due; a failure is retried later with back-off. Returns how many went out."""
    sent = 0
    async with transaction(runtime.sessions) as session:
        for item in await notify.due_notifications(session, limit):
            user = await session.get_one(ChannelUser, item.channel_user_id)
            sender = runtime.senders.get(user.channel)
            try:
                replies = await runtime.engine.push(session, user, item)
                if sender is not None:
                    await sender(user.external_id, replies)
            except Exception as error:  # noqa: BLE001 - recorded and retried
                log.warning("notification.failed", id=item.id, channel=user.channel, error=str(error))
                notify.mark_failed(item, str(error))
                continue
            # Channels without push (terminal, try-out) show it from the transcript.
            item.status, item.sent_at = "sent", utcnow()
            sent += 1
    return sent


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver_hospital_events(runtime: Runtime, http: aiohttp.ClientSession, limit: int = 20) -> int:
    """POST due events as JSON signed with HMAC-SHA256 (header ``X-Jiahu-Signature``) until a 2xx."""
    url = runtime.settings.hospital_webhook_url
    if not url:
        return 0
    secret = runtime.settings.ensure_secret_key()
    delivered = 0
    async with transaction(runtime.sessions) as session:
        for item in await notify.due_hospital_events(session, limit):
            body = json.dumps({"id": item.id, "event": item.event, "created_at": item.created_at.isoformat(),
                               "data": item.payload}, ensure_ascii=False).encode()
            try:
                async with http.post(url, data=body, timeout=aiohttp.ClientTimeout(total=10), headers={
                        "Content-Type": "application/json", "X-Jiahu-Event": item.event,
                        "X-Jiahu-Signature": signature(secret, body)}) as response:
                    if response.status >= 300:
                        raise RuntimeError(f"HTTP {response.status}")
            except Exception as error:  # noqa: BLE001
                notify.mark_failed(item, str(error))
                continue
            item.status, item.delivered_at = "delivered", utcnow()
            delivered += 1
    return delivered


async def run_workers(runtime: Runtime, interval: float = 2.0) -> None:
    """The background loop of ``jiahu serve``."""
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                await deliver_notifications(runtime)
                await deliver_hospital_events(runtime, http)
            except Exception:  # noqa: BLE001 - the loop must survive a bad moment
                log.exception("workers.failed")
            await asyncio.sleep(interval)
