"""Slots, alarms and personal-data requests through the API."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend import privacy
from backend.db import transaction
from backend.models import Booking, DataRequest

from .helpers import make_token  # noqa: TID252


async def test_slots_alarms_and_erasure(runtime, dialogue, client, today):
    auth = await make_token(runtime, "manager-system", "slots:write", "visits:write",
                            "data_requests:read", "data_requests:write")
    response = await client.post("/api/slots", headers=auth, json={
        "district": "海淀区", "date": str(today + timedelta(days=11)), "start": "18:00", "end": "20:00", "capacity": 2})
    assert response.status == 201, await response.text()
    slot = await response.json()
    response = await client.post(f"/api/slots/{slot['id']}/capacity", headers=auth, json={"capacity": 5})
    assert response.status == 200 and (await response.json())["capacity"] == 5
    bad = await client.post("/api/slots", headers=auth, json={
        "district": "通州区", "date": str(today + timedelta(days=11)), "start": "18:00", "end": "20:00", "capacity": 2})
    assert bad.status == 400 and "unknown district" in (await bad.json())["error"]

    await dialogue.intake()
    async with transaction(runtime.sessions) as session:
        booking = (await session.execute(select(Booking))).scalar_one()
        booking.status = "assigned"
    response = await client.post(f"/api/visits/{booking.number}/alarm", headers=auth, json={"note": "跌倒"})
    assert response.status == 200
    alerts = await (await client.get("/api/alerts", headers=auth)).json()
    [alarm] = alerts["alarms"]
    response = await client.post(f"/api/alarms/{alarm['id']}/handled", headers=auth, json={})
    assert response.status == 200
    assert (await (await client.get("/api/alerts", headers=auth)).json())["alarms"] == []

    async with transaction(runtime.sessions) as session:
        request = await privacy.open_request(session, booking.channel_user_id, "delete")
    listed = await (await client.get("/api/data-requests", headers=auth)).json()
    assert [r["id"] for r in listed["data_requests"]] == [request.id]
    response = await client.post(f"/api/data-requests/{request.id}/erase", headers=auth)
    body = await response.json()
    assert response.status == 200 and body["retained_intakes"] and body["request"]["status"] == "done"
    again = await client.post(f"/api/data-requests/{request.id}/erase", headers=auth)
    assert again.status == 409
    async with runtime.sessions() as session:
        assert (await session.execute(select(DataRequest.status))).scalar_one() == "done"


async def test_a_second_window_at_the_same_start_is_409_and_offsets_are_400(runtime, client, today):
    auth = await make_token(runtime, "manager-system", "slots:write")
    window = {"district": "海淀区", "date": str(today + timedelta(days=12)), "start": "18:00",
              "end": "20:00", "capacity": 2}
    assert (await client.post("/api/slots", headers=auth, json=window)).status == 201
    again = await client.post("/api/slots", headers=auth, json={**window, "capacity": 3})
    assert again.status == 409 and "already has a window" in (await again.json())["error"]
    for start, end in (("19:00+08:00", "20:00"), ("19:00", "21:00Z"), ("19:00:00-05:00", "22:00")):
        shifted = await client.post("/api/slots", headers=auth, json={**window, "start": start, "end": end})
        assert shifted.status == 400, (start, end)
        assert "without an offset" in (await shifted.json())["error"]
