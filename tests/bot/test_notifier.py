"""The hospital's webhook: signed JSON events, retried until acknowledged."""
from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select, update

from backend.models import HospitalEvent
from bot.notifier import deliver_hospital_events
from tests.conftest import TEST_SECRET


async def test_events_are_signed_and_retried_until_acknowledged(runtime, dialogue, monkeypatch):
    received: list[tuple[dict, str]] = []
    answers = [500, 200]

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received.append((json.loads(body), request.headers["X-Jiahu-Signature"]))
        expected = "sha256=" + hmac.new(TEST_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert request.headers["X-Jiahu-Signature"] == expected
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        runtime.settings.hospital_webhook_url = str(server.make_url("/hook"))
        monkeypatch.setenv("JIAHU_HOSPITAL_WEBHOOK_URL", runtime.settings.hospital_webhook_url)
        from backend.settings import get_settings

        get_settings.cache_clear()
        await dialogue.intake()
        async with aiohttp.ClientSession() as http:
            assert await deliver_hospital_events(runtime, http) == 0  # the hospital answered 500
            async with runtime.sessions() as session, session.begin():
                event = (await session.execute(select(HospitalEvent))).scalar_one()
                assert event.status == "pending" and event.attempts == 1 and "500" in event.last_error
                await session.execute(update(HospitalEvent).values(next_attempt_at=event.created_at))
            assert await deliver_hospital_events(runtime, http) == 1
    assert [body["event"] for body, _ in received] == ["booking.requested", "booking.requested"]
    assert received[0][0]["data"]["district"] == "朝阳区"
    async with runtime.sessions() as session:
        assert (await session.execute(select(HospitalEvent.status))).scalar_one() == "delivered"


async def test_booking_events_carry_the_fhir_bundle_when_configured(runtime, dialogue, monkeypatch):
    """JIAHU_HOSPITAL_WEBHOOK_FHIR=masked: each booking event carries the booking as it stands
    (after sealing: with the consent's PDF) as a FHIR R4 Bundle the hospital can validate."""
    from fhir.resources.R4B.bundle import Bundle

    from bot.notifier import deliver_notifications

    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(json.loads(await request.read()))
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        monkeypatch.setenv("JIAHU_HOSPITAL_WEBHOOK_URL", str(server.make_url("/hook")))
        monkeypatch.setenv("JIAHU_HOSPITAL_WEBHOOK_FHIR", "masked")
        from backend.settings import get_settings

        get_settings.cache_clear()
        runtime.settings = get_settings()
        await dialogue.intake()
        await deliver_notifications(runtime)  # the consent sealed first
        async with aiohttp.ClientSession() as http:
            assert await deliver_hospital_events(runtime, http) == 2
    events = {body["event"]: body["data"] for body in received}
    assert set(events) == {"booking.requested", "consent.sealed"} and "fhir" not in events["consent.sealed"]
    assert len(events["consent.sealed"]["evidence_sha256"]) == 64
    bundle = Bundle.model_validate(events["booking.requested"]["fhir"])
    kinds = {entry.resource.get_resource_type() for entry in bundle.entry}
    assert {"Patient", "QuestionnaireResponse", "Consent", "DocumentReference", "Appointment"} <= kinds
    assert bundle.identifier.value == events["booking.requested"]["number"]
    assert "11010519491231002X" not in json.dumps(events["booking.requested"]["fhir"])  # masked
