"""Delivers the outboxes: queued messages to families through their channel, and signed
events to the hospital's system. Runs inside ``jiahu serve``; safe with several processes.

No database transaction is held while a channel or the hospital is called: due rows are first
claimed for a lease (so another worker leaves them alone), then sent, then marked sent or failed.
A sender may itself use the database (the WeChat token, a download link) without waiting on us.
"""
from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import json
from datetime import timedelta

import aiohttp
import structlog

from backend import clock, notify
from backend.db import transaction
from backend.exports.fhir_bundle import booking_bundle, bundle_json
from backend.models import HospitalEvent, Notification
from bot import activity
from bot.delivery import LEASE, deliver_due
from bot.runtime import Runtime
from flows.consent_documents import seal_consent
from flows.reminders import remind

log = structlog.get_logger(__name__)


async def _claim(runtime: Runtime, due: notify.Due, limit: int) -> list[int]:
    async with transaction(runtime.sessions) as session:
        rows = await due(session, limit)
        for row in rows:
            row.next_attempt_at = clock.now() + LEASE
        return [row.id for row in rows]


async def _settle(runtime: Runtime, model: type[Notification] | type[HospitalEvent], row_id: int,
                  error: str | None) -> None:
    async with transaction(runtime.sessions) as session:
        row: Notification | HospitalEvent = await session.get_one(model, row_id)
        if error is not None:
            notify.mark_failed(row, error)
        elif isinstance(row, Notification):
            row.status, row.sent_at = "sent", clock.now()
        else:
            row.status, row.delivered_at = "delivered", clock.now()


SEAL_WAITS_AT_MOST = timedelta(seconds=10)
"""How long a signed consent's seal waits for a lull when a burst of turns keeps the process
busy (``bot.activity``); then it is sealed all the same."""


async def seal_consents(runtime: Runtime, limit: int = 5) -> int:
    """Run the due ``consent.seal`` jobs (flows/consent_documents.py); returns how many sealed.
    In a burst of turns only those queued ``SEAL_WAITS_AT_MOST`` ago or more."""
    due: notify.Due = notify.due_seal_jobs
    if await activity.turns.busy():
        due = functools.partial(notify.due_seal_jobs,
                                queued_before=clock.now() - SEAL_WAITS_AT_MOST)
    sealed = 0
    for job_id in await _claim(runtime, due, limit):
        try:
            done = await seal_consent(runtime.sessions, job_id)
        except Exception as error:  # noqa: BLE001 - recorded and retried
            log.warning("consent.seal_failed", id=job_id, error=str(error))
            await _settle(runtime, Notification, job_id, str(error))
            continue
        await _settle(runtime, Notification, job_id, None)
        sealed += int(done)
    return sealed


async def write_reminders(runtime: Runtime, limit: int = 20) -> int:
    """Run the due ``booking.remind`` jobs (flows/reminders.py); returns how many were written."""
    written = 0
    for job_id in await _claim(runtime, notify.due_reminder_jobs, limit):
        try:
            written += int(await remind(runtime.sessions, job_id))
        except Exception as error:  # noqa: BLE001 - recorded and retried
            log.warning("reminder.failed", id=job_id, error=str(error))
            await _settle(runtime, Notification, job_id, str(error))
            continue
        await _settle(runtime, Notification, job_id, None)
    return written


async def deliver_notifications(runtime: Runtime, limit: int = 20) -> int:
    """Seal the consents signed since (a job of its own, rendered with no transaction open) and
    write the reminders now due, then deliver what is due (``bot/delivery.py``): queued replies
    and notifications, in order per conversation, retried with back-off. Returns how many went
    out. Channels without push (terminal, try-out) show them from the transcript."""
    await seal_consents(runtime)
    await write_reminders(runtime)
    return await deliver_due(runtime, limit)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver_hospital_events(runtime: Runtime, http: aiohttp.ClientSession, limit: int = 20) -> int:
    """POST due events as JSON signed with HMAC-SHA256 (header ``X-Jiahu-Signature``) until a 2xx."""
    url = runtime.settings.hospital_webhook_url
    if not url:
        return 0
    secret = runtime.settings.ensure_secret_key()
    delivered = 0
    for event_id in await _claim(runtime, notify.due_hospital_events, limit):
        async with runtime.sessions() as session:
            item = await session.get_one(HospitalEvent, event_id)
        data = dict(item.payload)
        if runtime.settings.hospital_webhook_fhir and item.event.startswith("booking.") and "number" in data:
            data["fhir"] = await _fhir_bundle(runtime, str(data["number"]))
        body = json.dumps({"id": item.id, "event": item.event, "created_at": item.created_at.isoformat(),
                           "data": data}, ensure_ascii=False).encode()
        try:
            async with http.post(url, data=body, timeout=aiohttp.ClientTimeout(total=10), headers={
                    "Content-Type": "application/json", "X-Jiahu-Event": item.event,
                    "X-Jiahu-Signature": signature(secret, body)}) as response:
                if response.status >= 300:
                    raise RuntimeError(f"HTTP {response.status}")
        except Exception as error:  # noqa: BLE001
            await _settle(runtime, HospitalEvent, event_id, str(error))
            continue
        await _settle(runtime, HospitalEvent, event_id, None)
        delivered += 1
    return delivered


async def _fhir_bundle(runtime: Runtime, number: str) -> dict[str, object]:
    """The booking as it stands now as a FHIR R4 Bundle (``JIAHU_HOSPITAL_WEBHOOK_FHIR``: masked
    or full personal data), with the access record every export writes."""
    async with transaction(runtime.sessions) as session:
        bundle = await booking_bundle(session, number, "system:hospital-webhook",
                                      full_identifiers=runtime.settings.hospital_webhook_fhir == "full")
    loaded: dict[str, object] = json.loads(bundle_json(bundle))
    return loaded


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
