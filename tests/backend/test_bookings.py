"""Slots and bookings on a real database: the last place goes to one family only."""
from __future__ import annotations

import asyncio
from decimal import Decimal

from sqlalchemy import func, select

from backend import bookings, conversations, intakes
from backend.config import hospital_config
from backend.db import transaction
from backend.identity import parse_resident_id
from backend.models import Booking, Slot


async def _intake(runtime, n: int) -> tuple[int, int, int]:
    async with transaction(runtime.sessions) as session:
        user = await conversations.get_or_create_user(session, "terminal", f"family-{n}")
        intake = await intakes.open_intake(session, user.id, "2026-11")
        patient = await intakes.save_patient(session, intake.id, name=f"病人{n}",
                                             resident_id=parse_resident_id("11010519491231002X"),
                                             phone="13800138000", address="北京市朝阳区某路1号", district="朝阳区")
        return user.id, intake.id, patient.id


async def test_open_slots_follow_the_schedule(runtime, today):
    async with transaction(runtime.sessions) as session:
        slots = await bookings.open_slots(session, hospital_config(), "朝阳区", limit=50)
    assert slots and all(s.day > today and s.day.weekday() != 6 for s in slots)
    assert {(s.start.hour, s.end.hour) for s in slots} == {(9, 11), (14, 16)}
    async with transaction(runtime.sessions) as session:  # idempotent
        again = await bookings.open_slots(session, hospital_config(), "朝阳区", limit=50)
    assert [s.id for s in again] == [s.id for s in slots]


async def test_concurrent_families_never_overfill_a_slot(runtime):
    async with transaction(runtime.sessions) as session:
        slot = (await bookings.open_slots(session, hospital_config(), "朝阳区"))[0]
    people = [await _intake(runtime, n) for n in range(12)]

    async def book(user_id: int, intake_id: int, patient_id: int) -> str:
        try:
            async with transaction(runtime.sessions) as session:
                await bookings.create_booking(session, bookings.NewBooking(
                    intake_id=intake_id, patient_id=patient_id, channel_user_id=user_id,
                    slot_id=slot.id, service_codes=["wound_care"], district="朝阳区",
                    address="北京市朝阳区某路1号", present_name="张丽", present_relation="daughter",
                    present_phone="13800138001", total_price=Decimal("180.00")), actor="test")
            return "booked"
        except bookings.SlotFull:
            return "full"

    results = await asyncio.gather(*(book(*p) for p in people))
    assert results.count("booked") == slot.capacity == 3
    async with runtime.sessions() as session:
        stored = await session.get(Slot, slot.id)
        count = (await session.execute(select(func.count(Booking.id)))).scalar_one()
    assert stored.booked == 3 and count == 3
